"""The instance state machine: generation, completion and the deadline sweep.

Every transition is a conditional write (row lock or `WHERE status IN (...)`), so the web,
the bot and the sweep can race on one instance and exactly one of them changes it.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.timezones import local_today
from core.errors import Conflict, NotFound
from core.events import record
from habits.models import Habit
from instances import generation
from instances.clock import (
    completion_status,
    deadlines,
    status_by_clock,
    status_by_clock_expression,
)
from instances.events import (
    INSTANCE_COMPLETED,
    INSTANCE_CREATED,
    INSTANCE_DELETED,
    INSTANCE_UPDATED,
)
from instances.generation import Scope
from instances.localdays import LocalDay, current_and_next_day, local_day, occurrence_index
from instances.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    GeneratedDay,
    HabitInstance,
    Source,
    Status,
)
from realtime import presence

logger = logging.getLogger(__name__)

SWEEP_BATCH = 5_000
# Other advisory locks of the project must not reuse this number.
GENERATION_LOCK_KEY = 0x6E4E
KEEP_GENERATED_DAYS = timedelta(days=3)


def _record_instances(type: str, *, ids: list[int], user_ids: set[int], **facts: object) -> None:
    """Record a change of instances, if any: `ids` to announce, `user_ids` owning changes."""
    if ids or user_ids:
        record(type, ids=ids, user_ids=user_ids, **facts)


# --- generation ----------------------------------------------------------------------------


def _days_for(timezones: Iterable[str], now: datetime) -> list[LocalDay]:
    return [local_day(tz, on) for tz in set(timezones) for on in current_and_next_day(tz, now)]


def instances_generate_for(
    *,
    habit_ids: Sequence[int] = (),
    user_ids: Sequence[int] = (),
    dates: Sequence[date] = (),
    now: datetime | None = None,
) -> list[int]:
    """Generate for some habits or users, on their current and next local date (or `dates`).

    Called when a habit is created, re-activated or re-scheduled, or a user changes
    timezone; runs inside the caller's transaction and announces new rows after commit.
    """
    now = now or timezone.now()
    users = User.objects.all()
    if user_ids:
        users = users.filter(pk__in=user_ids)
    if habit_ids:
        users = users.filter(habits__in=habit_ids)
    timezones = set(users.values_list("timezone", flat=True))
    if dates:
        days = [local_day(tz, on) for tz in timezones for on in dates]
    else:
        days = _days_for(timezones, now)
    created = generation.generate(days=days, now=now, scope=Scope(habit_ids, user_ids))
    _record_instances(
        INSTANCE_CREATED,
        ids=[pk for pk, _, _ in created],
        user_ids={user_id for _, user_id, _ in created},
        # Already under way (created after its time): the sweep sends its reminder now
        # rather than at its next tick.
        under_way=any(status != Status.SCHEDULED for _, _, status in created),
    )
    return [row[0] for row in created]


@transaction.atomic
def instances_generate(*, now: datetime | None = None) -> int:
    """The periodic run: every user's current and next local date, in one statement.

    Days already covered (`GeneratedDay`) are skipped, so a re-run with nothing new is
    nearly free. Only users with a socket open are told about the new rows.
    """
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor
        ):  # one run at a time; a second one waits, then finds nothing
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [GENERATION_LOCK_KEY])
    timezones = set(User.objects.values_list("timezone", flat=True).distinct())
    wanted = _days_for(timezones, now)
    done = set(
        GeneratedDay.objects.filter(
            timezone__in=timezones, date__in={d.date for d in wanted}
        ).values_list("timezone", "date")
    )
    days = [d for d in wanted if (d.timezone, d.date) not in done]
    created = generation.generate(days=days, now=now)
    GeneratedDay.objects.bulk_create(
        [GeneratedDay(timezone=d.timezone, date=d.date) for d in days], ignore_conflicts=True
    )
    GeneratedDay.objects.filter(date__lt=(now - KEEP_GENERATED_DAYS).date()).delete()
    online = presence.online_among(user_id for _, user_id, _ in created)
    _record_instances(
        INSTANCE_CREATED,
        ids=[pk for pk, user_id, _ in created if user_id in online],
        user_ids={user_id for _, user_id, _ in created},
    )
    return len(created)


# --- habit lifecycle -------------------------------------------------------------------------


def _retime_scheduled(instances: Iterable[HabitInstance], *, now: datetime) -> list[int]:
    """Recompute times of not-yet-pending instances from their habit and owner's timezone."""
    changed = []
    for instance in instances:
        habit = instance.habit
        at = local_day(habit.user.timezone, instance.date).resolve(habit.time_of_day)
        grace, fix = deadlines(at, grace_minutes=habit.grace_minutes, fix_minutes=habit.fix_minutes)
        if (instance.scheduled_at, instance.grace_deadline, instance.fix_deadline) == (
            at,
            grace,
            fix,
        ):
            continue
        instance.scheduled_at, instance.grace_deadline, instance.fix_deadline = at, grace, fix
        instance.status = status_by_clock(at, grace, fix, now)
        instance.updated_at = now  # bulk_update does not apply auto_now
        changed.append(instance)
    HabitInstance.objects.bulk_update(
        changed, ["scheduled_at", "grace_deadline", "fix_deadline", "status", "updated_at"]
    )
    return [i.pk for i in changed]


def instances_on_habit_created(*, habit: Habit) -> None:
    instances_generate_for(habit_ids=[habit.pk])


def instances_on_habit_changed(*, habit: Habit, changed: set[str]) -> None:
    """Keep the not-yet-pending instances in step with an edited habit.

    Deactivated: its scheduled instances go (history stays). Occurrence rule changed: the
    scheduled ones that no longer fall on their date go. Then the times of the rest follow
    the habit, and any occurrence now due is generated.
    """
    now = timezone.now()
    scheduled = HabitInstance.objects.filter(habit=habit, status=Status.SCHEDULED)
    if not habit.is_active:
        scheduled.delete()
        return
    if changed & {"start_date", "periodicity_days", "repeat_limit"}:
        gone = [
            i.pk
            for i in scheduled
            if occurrence_index(
                start_date=habit.start_date,
                periodicity_days=habit.periodicity_days,
                repeat_limit=habit.repeat_limit,
                on=i.date,
            )
            is None
        ]
        HabitInstance.objects.filter(pk__in=gone).delete()
    if changed & {"time_of_day", "grace_minutes", "fix_minutes"}:
        retimed = _retime_scheduled(scheduled.select_related("habit__user"), now=now)
        _record_instances(INSTANCE_UPDATED, ids=retimed, user_ids={habit.user_id})
    instances_generate_for(habit_ids=[habit.pk], now=now)


def instances_on_timezone_changed(*, user_id: int) -> None:
    """A user moved: scheduled instances take the new offsets, new local dates are covered.
    Runs inside the transaction that moved them (the reaction to `user.timezone_changed`)."""
    now = timezone.now()
    scheduled = HabitInstance.objects.filter(user_id=user_id, status=Status.SCHEDULED)
    retimed = _retime_scheduled(scheduled.select_related("habit__user"), now=now)
    # Also when nothing moved: the local date itself may have.
    _record_instances(INSTANCE_UPDATED, ids=retimed, user_ids={user_id})
    instances_generate_for(user_ids=[user_id], now=now)


@transaction.atomic
def instances_delete(*, instances: QuerySet[HabitInstance]) -> int:
    """Delete by hand (the admin's door): the owners' `today` lists and the habits' stats
    follow, like after any change. Returns how many went."""
    owners = dict(instances.values_list("habit_id", "user_id"))
    deleted, _ = instances.delete()
    if owners:
        record(INSTANCE_DELETED, owners=owners, user_ids=set(owners.values()))
    return deleted


# --- completion ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    instance: HabitInstance
    refusal: str | None = None


@transaction.atomic
def _complete_locked(*, instance_id: int, user_id: int, at: datetime, source: Source) -> _Outcome:
    # The owner is part of the locking read: a caller needs no lookup of its own first (one
    # query fewer before the commit, the frame and the answer).
    try:
        instance = (
            HabitInstance.objects.select_for_update(of=("self",))
            .select_related("habit", "user")
            .get(pk=instance_id, user_id=user_id)
        )
    except HabitInstance.DoesNotExist:
        raise NotFound from None
    if instance.status in DONE_STATUSES:
        return _Outcome(instance)
    if instance.status == Status.FIX_EXPIRED:
        return _Outcome(instance, "The fix window of this instance has closed.")
    if instance.date > local_today(instance.user.timezone, at):
        return _Outcome(instance, "This instance is on a future date; it cannot be done yet.")
    status = completion_status(instance.grace_deadline, instance.fix_deadline, at)
    if status is None:
        instance.status = Status.FIX_EXPIRED
        refusal = "The fix window of this instance has closed."
    else:
        instance.status, instance.completed_at, instance.source = status, at, source
        refusal = None
    instance.save(update_fields=["status", "completed_at", "source", "updated_at"])
    # Completed: the reaction table also says "done" in its Telegram reminders, in this
    # transaction (config/reactions.py).
    record(
        INSTANCE_UPDATED if refusal else INSTANCE_COMPLETED,
        ids=[instance.pk],
        user_ids={instance.user_id},
    )
    return _Outcome(instance, refusal)


def instance_complete(
    *, instance_id: int, user_id: int, at: datetime, source: Source
) -> HabitInstance:
    """Mark the user's instance done at `at`; the clock decides completed / completed_late.
    Safe to call twice.

    Too late: the instance becomes fix_expired (committed) and the call is refused (409).
    NotFound when the user has no such instance.
    """
    outcome = _complete_locked(instance_id=instance_id, user_id=user_id, at=at, source=source)
    if outcome.refusal:
        raise Conflict(outcome.refusal)
    return outcome.instance


# --- the sweep -------------------------------------------------------------------------------


# Each arm reads its own partial index in deadline order and stops after the batch, so the
# cost follows the due rows, not the table (a planner estimate cannot turn it into a scan).
SWEEP_ARMS = (
    (Status.SCHEDULED, "scheduled_at", "lte"),
    (Status.PENDING, "grace_deadline", "lt"),
    (Status.MISSED, "fix_deadline", "lt"),
)


def _due(now: datetime) -> list[tuple[int, int]]:
    """(instance id, user id) of the due instances, at most SWEEP_BATCH."""
    due_rows: list[tuple[int, int]] = []
    for status, deadline, lookup in SWEEP_ARMS:
        # SKIP LOCKED: rows another sweep or a completion holds are theirs to change; a
        # second sweep running at once takes disjoint rows, so each instance changes once.
        due = (
            HabitInstance.objects.filter(status=status, **{f"{deadline}__{lookup}": now})
            .order_by(deadline)
            .select_for_update(skip_locked=True)
        )
        due_rows += due.values_list("id", "user_id")[: SWEEP_BATCH - len(due_rows)]
    return due_rows


@transaction.atomic
def _sweep_batch(now: datetime) -> list[int]:
    due = _due(now)
    ids = [pk for pk, _ in due]
    if ids:
        HabitInstance.objects.filter(pk__in=ids, status__in=OPEN_STATUSES).update(
            status=status_by_clock_expression(now), updated_at=now
        )
        _record_instances(INSTANCE_UPDATED, ids=ids, user_ids={user_id for _, user_id in due})
    return ids


def instances_sweep(*, now: datetime | None = None) -> int:
    """Move every due instance to the status the clock gives it; returns how many moved."""
    now = now or timezone.now()
    moved = 0
    while True:
        ids = _sweep_batch(now)
        moved += len(ids)
        if len(ids) < SWEEP_BATCH:
            return moved
