"""Everything that changes a habit goes through here: rules checked, then one event."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from accounts.models import User
from accounts.timezones import local_today
from core.errors import Conflict, InvalidInput
from core.events import record
from habits.events import HABIT_CREATED, HABIT_DELETED, HABIT_UPDATED
from habits.models import Habit
from habits.selectors import habits_rewarded_by

EDITABLE = (
    "action", "place", "time_of_day", "is_pleasant", "reward_text", "related_pleasant_habit",
    "periodicity_days", "repeat_limit", "grace_minutes", "fix_minutes", "start_date",
    "is_public", "is_active", "reminders", "cue_habit", "cue_delay_minutes",
)  # fmt: skip
NOT_YOURS = "Must be one of your own pleasant habits."
NOT_YOUR_HABIT = "Must be one of your own habits."
CUE_CYCLE = "This cue would make a cycle: the cue habit is stacked on this one."


def _resolve_related(*, user: User, habit_id: int | None) -> Habit | None:
    if habit_id is None:
        return None
    related = Habit.objects.filter(pk=habit_id, user=user).first()
    if related is None:  # another user's habit is as unknown as a missing one
        raise InvalidInput.field("related_pleasant_habit", NOT_YOURS)
    return related


def _resolve_cue(habit: Habit, cue_id: int | None) -> Habit | None:
    """One of the owner's habits whose own chain of cues never leads back to `habit`."""
    if cue_id is None:
        return None
    cue = Habit.objects.filter(pk=cue_id, user_id=habit.user_id).first()
    if cue is None:
        raise InvalidInput.field("cue_habit_id", NOT_YOUR_HABIT)
    # The owner's row is the lock: two edits that would each close half of a cycle run one
    # after the other, and the second sees the first's link.
    list(User.objects.select_for_update().filter(pk=habit.user_id).values_list("pk"))
    links = dict(Habit.objects.filter(user_id=habit.user_id).values_list("id", "cue_habit_id"))
    seen: set[int] = set()
    at: int | None = cue.pk
    while at is not None and at not in seen:
        if at == habit.pk:
            raise InvalidInput.field("cue_habit_id", CUE_CYCLE)
        seen.add(at)
        at = links.get(at)
    return cue


def _apply(habit: Habit, data: dict[str, Any]) -> None:
    for field, value in data.items():
        if field == "related_pleasant_habit":
            habit.related_pleasant_habit = _resolve_related(user=habit.user, habit_id=value)
        elif field == "cue_habit_id":
            habit.cue_habit = _resolve_cue(habit, value)
        elif field == "reminders":
            habit.reminders = _ascending(value)
        elif field in EDITABLE:
            setattr(habit, field, value)


def _snapshot(habit: Habit) -> dict[str, Any]:
    return {field: getattr(habit, Habit._meta.get_field(field).attname) for field in EDITABLE}


def _ensure_not_a_reward(habit: Habit, *, doing: str) -> None:
    """409 naming the habits that point to `habit`, if any."""
    pointing = list(habits_rewarded_by(habit).values_list("id", "action")[:10])
    if pointing:
        names = ", ".join(f"#{pk} {action!r}" for pk, action in pointing)
        raise Conflict(
            f"This pleasant habit is the reward of {names}; it cannot be {doing}. "
            "Give those habits another reward first."
        )


def habit_reward_check(*, habit: Habit) -> None:
    """409 if other habits have `habit` as their reward, so it may not stop being pleasant:
    the admin's form asks before `habit_save`."""
    _ensure_not_a_reward(habit, doing="made useful")


def habit_cue_check(*, habit: Habit, cue_id: int | None) -> None:
    """422 (`cue_habit_id`) unless `cue_id` is none or one of the owner's habits whose chain
    of cues never leads back to `habit`: the admin's form asks before `habit_save`."""
    _resolve_cue(habit, cue_id)


def _ascending(reminders: Any) -> Any:
    """Offsets kept ascending (the first is the earliest, and equal lists compare equal);
    anything but a list of whole numbers as it is, for `clean` to name."""
    if isinstance(reminders, list) and all(isinstance(o, int) for o in reminders):
        return sorted(reminders)
    return reminders


def _save(habit: Habit) -> None:
    habit.reminders = _ascending(habit.reminders)  # whatever the door: the admin's keeps any order
    habit.full_clean(exclude=["user"])
    try:
        with transaction.atomic():
            habit.save()
    except IntegrityError as exc:
        # A concurrent change broke a rule between our check and the write (the database
        # holds every rule too): the state moved under us.
        raise Conflict("The habit changed concurrently; read it again and retry.") from exc


@transaction.atomic
def habit_create(*, user: User, data: dict[str, Any]) -> Habit:
    habit = Habit(user=user)
    _apply(habit, data)
    if habit.start_date is None:
        habit.start_date = local_today(user.timezone)
    _save(habit)
    # Its instances are generated in this transaction: config/reactions.py WITHIN.
    record(HABIT_CREATED, habit_id=habit.pk, user_id=habit.user_id, public=habit.is_public)
    return habit


@transaction.atomic
def habit_update(*, habit: Habit, data: dict[str, Any]) -> Habit:
    """Change only the fields in `data`; no write and no event when nothing changes."""
    habit = Habit.objects.select_for_update().select_related("user").get(pk=habit.pk)
    before = _snapshot(habit)
    _apply(habit, data)
    if before == _snapshot(habit):
        return habit
    if before["is_pleasant"] and not habit.is_pleasant:
        _ensure_not_a_reward(habit, doing="made useful")
    _save_changed(habit, before)
    return habit


def _save_changed(habit: Habit, before: dict[str, Any]) -> None:
    """Save an existing habit and record what changed (its instances follow a schedule change
    in this transaction: config/reactions.py WITHIN). `public`: it is or was in the public
    feed."""
    _save(habit)
    changed = sorted(field for field, value in _snapshot(habit).items() if before[field] != value)
    record(
        HABIT_UPDATED, habit_id=habit.pk, user_id=habit.user_id, changed=changed,
        public=habit.is_public or before["is_public"],
    )  # fmt: skip


@transaction.atomic
def habit_delete(*, habit: Habit) -> None:
    habit = Habit.objects.select_for_update().get(pk=habit.pk)
    _ensure_not_a_reward(habit, doing="deleted")
    habit_id, user_id = habit.pk, habit.user_id
    try:
        with transaction.atomic():
            habit.delete()
    except (ProtectedError, IntegrityError) as exc:
        raise Conflict("Another habit started pointing to this one; try again.") from exc
    record(HABIT_DELETED, habit_id=habit_id, user_id=user_id, public=habit.is_public)


@transaction.atomic
def habit_save(*, habit: Habit) -> Habit:
    """The admin's door: save a habit its form validated and record the change like
    `habit_create` / `habit_update` do (its instances follow). A habit keeps its owner: its
    instances, pauses, cue and reward are that user's (the admin shows the owner read-only)."""
    if habit.pk is None:
        _save(habit)
        record(HABIT_CREATED, habit_id=habit.pk, user_id=habit.user_id, public=habit.is_public)
        return habit
    stored = Habit.objects.select_for_update().get(pk=habit.pk)
    if habit.user_id != stored.user_id:
        raise InvalidInput.field("user", "A habit keeps its owner.")
    if stored.is_pleasant and not habit.is_pleasant:
        _ensure_not_a_reward(habit, doing="made useful")
    # What the form does not show is the stored row's (the form's copy was read unlocked):
    # a plan's start or a course's end written meanwhile is not set back.
    habit.planned_from, habit.program_finished_at = stored.planned_from, stored.program_finished_at
    _save_changed(habit, _snapshot(stored))
    return habit
