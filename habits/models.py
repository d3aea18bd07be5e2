from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from accounts.models import SINCE_EVER

PERIODICITY_CHOICES = (1, 2, 3, 5, 7)
REPEAT_LIMIT_CHOICES = (21, 30, 45)
MAX_GRACE_MINUTES = 720
MAX_FIX_MINUTES = 1440
# Reminder offsets (SPEC §8): minutes from `scheduled_at`, 1 to 5 distinct ones, each from 12 h
# before up to the fix deadline (grace + fix minutes after).
MIN_REMINDER_OFFSET = -720
MAX_REMINDERS = 5
DEFAULT_REMINDERS = (0,)
MAX_CUE_DELAY_MINUTES = 240


def default_reminders() -> list[int]:
    return list(DEFAULT_REMINDERS)


NO_REWARD = Q(reward_text__isnull=True) & Q(related_pleasant_habit__isnull=True)
ONLY_REWARD_TEXT = Q(reward_text__isnull=False) & Q(related_pleasant_habit__isnull=True)
ONLY_RELATED = Q(reward_text__isnull=True) & Q(related_pleasant_habit__isnull=False)


class Habit(models.Model):
    """What a person plans to do, where and when, and how often.

    A pleasant habit is its own reward. A useful one has exactly one reward: a text, or a
    pleasant habit of the same owner. Every rule below also holds in the database; the rule
    "the related habit is a pleasant habit of the same owner" is a composite foreign key
    added by migration 0002 (PostgreSQL).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="habits"
    )
    action = models.CharField(max_length=255)
    place = models.CharField(max_length=255, blank=True, default="")
    time_of_day = models.TimeField(help_text="Local time in the owner's timezone.")
    is_pleasant = models.BooleanField(default=False)
    # Nullable by contract (SPEC §2): "no reward text" is null, never "".
    reward_text = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    related_pleasant_habit = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="rewarded_habits"
    )
    periodicity_days = models.PositiveSmallIntegerField(
        default=1, choices=[(d, f"every {d} day(s)") for d in PERIODICITY_CHOICES]
    )
    repeat_limit = models.PositiveSmallIntegerField(
        default=21, choices=[(n, f"{n} times") for n in REPEAT_LIMIT_CHOICES]
    )
    grace_minutes = models.PositiveSmallIntegerField(default=30)
    fix_minutes = models.PositiveSmallIntegerField(default=120)
    start_date = models.DateField(help_text="Local date of the first occurrence.")
    is_public = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    # Minutes from `scheduled_at`, ascending, distinct (the rules: `clean`).
    reminders = models.JSONField(default=default_reminders, db_default=[0])
    # Habit stacking: after an instance of the cue habit is done, this one's open instance on
    # the same local date gets one more reminder, `cue_delay_minutes` later.
    cue_habit = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="stacked_habits"
    )
    cue_delay_minutes = models.PositiveSmallIntegerField(default=0, db_default=0)
    # Always true: the third column of the composite foreign key that makes the database
    # refuse a related habit that is not pleasant or not the owner's (migration 0002).
    related_is_pleasant = models.GeneratedField(
        expression=models.Value(True), output_field=models.BooleanField(), db_persist=True
    )
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # When its current plan began: made, re-activated or re-scheduled (its owner's move is
    # `User.timezone_since`). Generation never makes an occurrence whose fix deadline came
    # before either, whoever runs it (the change itself, beat's next run, a backfill over
    # earlier days): no change starts the course with a failure the user never had a chance
    # at (SPEC §7).
    # A row written by hand without it (a benchmark's bulk load) is planned since ever.
    planned_from = models.DateTimeField(default=now, db_default=SINCE_EVER, editable=False)
    # When its course was last found finished (SPEC §7), so finishing is told once; cleared
    # when the course reopens. Kept by instances (it decides what finished means).
    program_finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="habit_user_recent"),
            models.Index(fields=["-id"], condition=Q(is_public=True), name="habit_public_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(action=""), name="habit_action_not_empty"),
            models.CheckConstraint(
                condition=Q(reward_text__isnull=True) | ~Q(reward_text=""),
                name="habit_reward_text_null_or_not_empty",
            ),
            models.CheckConstraint(
                condition=(Q(is_pleasant=True) & NO_REWARD)
                | (Q(is_pleasant=False) & (ONLY_REWARD_TEXT | ONLY_RELATED)),
                name="habit_pleasant_has_no_reward_useful_has_exactly_one",
            ),
            models.CheckConstraint(
                condition=Q(periodicity_days__in=PERIODICITY_CHOICES),
                name="habit_periodicity_allowed",
            ),
            models.CheckConstraint(
                condition=Q(repeat_limit__in=REPEAT_LIMIT_CHOICES),
                name="habit_repeat_limit_allowed",
            ),
            models.CheckConstraint(
                condition=Q(grace_minutes__gte=0, grace_minutes__lte=MAX_GRACE_MINUTES),
                name="habit_grace_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(fix_minutes__gte=0, fix_minutes__lte=MAX_FIX_MINUTES),
                name="habit_fix_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(cue_delay_minutes__gte=0, cue_delay_minutes__lte=MAX_CUE_DELAY_MINUTES),
                name="habit_cue_delay_range",
            ),
            models.CheckConstraint(
                condition=~Q(cue_habit=models.F("id")), name="habit_cue_not_itself"
            ),
            # The target of the composite "same owner, pleasant" foreign key (migration 0002).
            models.UniqueConstraint(
                fields=["id", "user", "is_pleasant"], name="habit_id_user_pleasant_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.action

    def clean(self) -> None:
        """The pleasant/useful rules, each error on the field it is about."""
        errors: dict[str, str] = {}
        has_text = bool(self.reward_text)
        has_related = self.related_pleasant_habit_id is not None
        if self.is_pleasant:
            if has_text:
                errors["reward_text"] = "A pleasant habit is its own reward; it cannot have one."
            if has_related:
                errors["related_pleasant_habit"] = (
                    "A pleasant habit is its own reward; it cannot point to another."
                )
        elif has_text and has_related:
            both = (
                "Give a useful habit one reward: reward_text or related_pleasant_habit, not both."
            )
            errors = {"reward_text": both, "related_pleasant_habit": both}
        elif not (has_text or has_related):
            neither = "A useful habit needs a reward: reward_text or related_pleasant_habit."
            errors = {"reward_text": neither, "related_pleasant_habit": neither}
        if has_related and "related_pleasant_habit" not in errors:
            related = self.related_pleasant_habit
            if related.user_id != self.user_id or not related.is_pleasant:
                errors["related_pleasant_habit"] = "Must be one of your own pleasant habits."
        if problem := reminders_problem(self.reminders, self.grace_minutes, self.fix_minutes):
            errors["reminders"] = problem
        if self.cue_habit_id is not None and self.cue_habit.user_id != self.user_id:
            errors["cue_habit"] = "Must be one of your own habits."
        if errors:
            raise ValidationError(errors)


def reminders_problem(reminders: object, grace_minutes: int, fix_minutes: int) -> str | None:
    """What is wrong with a list of reminder offsets, or None."""
    if not isinstance(reminders, list) or not all(
        isinstance(o, int) and not isinstance(o, bool) for o in reminders
    ):
        return "Must be a list of whole minutes."
    if not 1 <= len(reminders) <= MAX_REMINDERS:
        return f"Give 1 to {MAX_REMINDERS} reminder offsets."
    if len(set(reminders)) != len(reminders):
        return "Reminder offsets must be distinct."
    latest = grace_minutes + fix_minutes
    if any(not MIN_REMINDER_OFFSET <= o <= latest for o in reminders):
        return (
            f"Each offset must be from {MIN_REMINDER_OFFSET} to {latest} minutes "
            "(grace + fix minutes) from the scheduled time."
        )
    return None
