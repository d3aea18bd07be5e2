from django.conf import settings
from django.db import models
from django.db.models import Q

from habits.models import Habit


class Status(models.TextChoices):
    SCHEDULED = "scheduled"
    PENDING = "pending"
    COMPLETED = "completed"
    COMPLETED_LATE = "completed_late"
    MISSED = "missed"
    FIX_EXPIRED = "fix_expired"
    # Set aside by its owner (a skip, or a pause covering its date): no reminder, and it
    # neither counts in the course nor breaks a streak (SPEC §7).
    SKIPPED = "skipped"


# What the clock still moves; a skip is allowed from these too.
OPEN_STATUSES = (Status.SCHEDULED, Status.PENDING, Status.MISSED)
DONE_STATUSES = (Status.COMPLETED, Status.COMPLETED_LATE)
# Nothing changes these any more (a skip or a pause refuses them, or leaves them alone).
FINAL_STATUSES = (*DONE_STATUSES, Status.FIX_EXPIRED)


class SkipReason(models.TextChoices):
    SICK = "sick"
    TRAVEL = "travel"
    REST = "rest"
    OTHER = "other"


NOTE_MAX_LENGTH = 1_000
# The longest pause, in days, end date included.
PAUSE_MAX_DAYS = 365


class Source(models.TextChoices):
    WEB = "web"
    TELEGRAM = "telegram"
    API = "api"
    # Brought from a file (SPEC §9): history, not counted in the habit's course (SPEC §7).
    IMPORT = "import"


class HabitInstance(models.Model):
    """One scheduled occurrence of a habit on a local date of its owner."""

    # No index of their own: (habit, date) and (user, date) lead with them already, and each
    # index more is one more write on every change of a row (a reminder tick moves a
    # thousand at once).
    habit = models.ForeignKey(
        Habit, on_delete=models.CASCADE, related_name="instances", db_index=False
    )
    # Copied from the habit so "today for a user" needs no join.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    date = models.DateField(help_text="Local date in the owner's timezone.")
    scheduled_at = models.DateTimeField()
    grace_deadline = models.DateTimeField()
    fix_deadline = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    completed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, blank=True, default="")
    skip_reason = models.CharField(
        max_length=8, choices=SkipReason.choices, blank=True, default="", db_default="",
        help_text="Set exactly when the instance is skipped.",
    )  # fmt: skip
    # The pause that skipped it, if one did: deleting the pause gives back only its own.
    pause = models.ForeignKey(
        "Pause", null=True, blank=True, on_delete=models.SET_NULL, related_name="instances",
        db_index=False,  # the partial `instance_by_pause`: most instances have none
    )  # fmt: skip
    # db_default: the set-based INSERTs (generation, the bench) name only what they set.
    note = models.TextField(max_length=NOTE_MAX_LENGTH, blank=True, default="", db_default="")
    reminded_at = models.DateTimeField(null=True, blank=True)
    missed_notified_at = models.DateTimeField(null=True, blank=True)
    # The moment of its earliest reminder offset other than 0 not yet decided (SPEC §8;
    # instances/reminders.py); null when none is left.
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["habit", "date"], name="instance_one_per_habit_and_date"
            ),
            models.CheckConstraint(
                condition=Q(scheduled_at__lte=models.F("grace_deadline"))
                & Q(grace_deadline__lte=models.F("fix_deadline")),
                name="instance_deadlines_in_order",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="instance_status_known"
            ),
            models.CheckConstraint(
                condition=Q(
                    completed_at__isnull=True,
                    status__in=[*OPEN_STATUSES, Status.FIX_EXPIRED, Status.SKIPPED],
                )
                | Q(completed_at__isnull=False, status__in=DONE_STATUSES),
                name="instance_completed_at_iff_done",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.SKIPPED, skip_reason__in=SkipReason.values)
                | (~Q(status=Status.SKIPPED) & Q(skip_reason="") & Q(pause__isnull=True)),
                name="instance_skip_reason_iff_skipped",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "date"], name="instance_user_day"),
            # The sweep's three transitions, each reading only the rows that are due.
            models.Index(
                fields=["scheduled_at"],
                condition=Q(status=Status.SCHEDULED),
                name="instance_due_pending",
            ),
            models.Index(
                fields=["grace_deadline"],
                condition=Q(status=Status.PENDING),
                name="instance_due_missed",
            ),
            models.Index(
                fields=["fix_deadline"],
                condition=Q(status=Status.MISSED),
                name="instance_due_expired",
            ),
            # Notifications not yet decided: only instances that just changed sit here.
            models.Index(
                fields=["id"],
                condition=Q(status=Status.PENDING, reminded_at__isnull=True),
                name="instance_reminder_undecided",
            ),
            models.Index(
                fields=["id"],
                condition=Q(status=Status.MISSED, missed_notified_at__isnull=True),
                name="instance_missed_undecided",
            ),
            models.Index(
                fields=["pause"], condition=Q(pause__isnull=False), name="instance_by_pause"
            ),
            # The reminder offsets due: the decision reads only the rows whose moment came.
            models.Index(
                fields=["next_reminder_at"],
                condition=Q(next_reminder_at__isnull=False),
                name="instance_reminder_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.habit_id} on {self.date}: {self.status}"


class Pause(models.Model):
    """Local dates `start_date..end_date` (inclusive) of the owner on which every habit, or
    one, is set aside: its instances on those dates are (or are born) skipped."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    habit = models.ForeignKey(
        Habit, null=True, blank=True, on_delete=models.CASCADE, related_name="pauses",
        help_text="Empty: every habit of the owner.",
    )  # fmt: skip
    start_date = models.DateField()
    end_date = models.DateField()
    reason = models.CharField(max_length=8, choices=SkipReason.choices, default=SkipReason.REST)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="pause_dates_in_order"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=SkipReason.values), name="pause_reason_known"
            ),
        ]
        indexes = [models.Index(fields=["user", "end_date"], name="pause_user_end")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.start_date}..{self.end_date} ({self.habit_id or 'all'})"


class GeneratedDay(models.Model):
    """A (timezone, local date) the periodic generation has fully covered.

    The periodic run skips these, so a run with nothing new to insert costs almost nothing.
    Anything that changes one habit's or one user's schedule generates for it directly.
    """

    timezone = models.CharField(max_length=64)
    date = models.DateField()
    generated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["timezone", "date"], name="generated_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.timezone} {self.date}"
