"""The habit lifecycle: instances follow a habit created, changed or deactivated, and a
user's timezone change; deletion by hand."""

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Literal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.timezones import local_today
from core.events import record
from habits.models import Habit
from instances.clock import deadlines, status_by_clock
from instances.events import INSTANCE_DELETED, INSTANCE_SKIPPED, INSTANCE_UPDATED
from instances.localdays import grid_index, local_day
from instances.models import OPEN_STATUSES, HabitInstance, SkipReason, Status
from instances.program import IN_COURSE, course_may_stretch
from instances.reminders import reminder_next
from instances.services.generate import _record_instances, instances_generate_for
from instances.services.program import programs_settle
from instances.services.rearm import reminders_rearm


def _retime_scheduled(
    instances: Iterable[HabitInstance], *, now: datetime, if_over: Literal["keep", "skip"]
) -> tuple[list[int], list[int]]:
    """Recompute times of not-yet-pending instances from their habit and owner's timezone;
    each takes the status the clock gives its new times. Returns (moved, skipped) ids.

    One whose new fix deadline has already passed never expires at once. On an edit of the
    habit (`keep`) it keeps its times: at 18:50, today's 23:30 moved to 07:00 stays at
    23:30, and the new time holds from the next occurrence. On a timezone change (`skip`)
    its old times may lie on a local date of the new zone already over, which no list
    shows: it takes the new times and is skipped for `travel`, outside the course (which
    stretches past it) and shown as such (one over under its old times already, the sweep
    behind, takes the clock's status). One whose new windows are still open moves, and is
    pending or missed as the clock says: it can still be done."""
    moved: list[HabitInstance] = []
    skipped: list[HabitInstance] = []
    for instance in instances:
        habit = instance.habit
        at = local_day(habit.user.timezone, instance.date).resolve(habit.time_of_day)
        grace, fix = deadlines(at, grace_minutes=habit.grace_minutes, fix_minutes=habit.fix_minutes)
        if if_over == "keep" and fix < now:
            continue
        if (instance.scheduled_at, instance.grace_deadline, instance.fix_deadline) == (
            at,
            grace,
            fix,
        ):
            continue
        overdue = instance.fix_deadline < now  # over already (the sweep behind): the clock's
        instance.scheduled_at, instance.grace_deadline, instance.fix_deadline = at, grace, fix
        if fix < now and not overdue:
            instance.status, instance.skip_reason = Status.SKIPPED, SkipReason.TRAVEL
            instance.next_reminder_at = None
            skipped.append(instance)
        else:
            instance.status = status_by_clock(at, grace, fix, now)
            instance.next_reminder_at = reminder_next(
                scheduled_at=at, reminders=habit.reminders, after=now, strict=False
            )
            moved.append(instance)
        instance.updated_at = now  # bulk_update does not apply auto_now
    HabitInstance.objects.bulk_update(
        [*moved, *skipped],
        ["scheduled_at", "grace_deadline", "fix_deadline", "status", "skip_reason",
         "next_reminder_at", "updated_at"],
    )  # fmt: skip
    return [i.pk for i in moved], [i.pk for i in skipped]


def _rearm_reminders(habit: Habit, *, now: datetime) -> None:
    """New reminder offsets for the habit's open instances, from now on."""
    open_ids = HabitInstance.objects.filter(habit=habit, status__in=OPEN_STATUSES)
    reminders_rearm(instance_ids=open_ids.values_list("id", flat=True), now=now)


# Edits of these habit fields re-plan the habit's instances that are not yet pending.
SCHEDULE_FIELDS = {
    "is_active", "time_of_day", "grace_minutes", "fix_minutes", "start_date",
    "periodicity_days", "repeat_limit",
}  # fmt: skip


def instances_on_habit_created(*, habit_id: int) -> None:
    """A new habit's instances on its owner's current and next local date (the reaction to
    `habit.created`, inside its transaction). None whose fix deadline has passed already:
    a habit created at 21:00 for 07:00 starts tomorrow, not with a failure."""
    instances_generate_for(habit_ids=[habit_id], fresh=True)


def _out_of_course(habit: Habit, instances: QuerySet[HabitInstance]) -> list[int]:
    """Ids of these instances (not yet pending) that no longer fall in the habit's course: off
    the date grid, or past it with `repeat_limit` counted instances before them."""
    counted = sorted(
        HabitInstance.objects.filter(IN_COURSE, habit=habit).values_list("date", flat=True)
    )
    gone = []
    for instance in instances:
        k = grid_index(
            start_date=habit.start_date, periodicity_days=habit.periodicity_days, on=instance.date
        )
        before = sum(1 for on in counted if on < instance.date)
        if k is None or (k >= habit.repeat_limit and before >= habit.repeat_limit):
            gone.append(instance.pk)
    return gone


def instances_on_habit_changed(*, habit_id: int, changed: Collection[str]) -> None:
    """Keep the not-yet-pending instances in step with an edited habit (the reaction to
    `habit.updated`, inside its transaction); nothing when no schedule field changed.

    Deactivated: its scheduled instances go (history stays). Occurrence rule changed: the
    scheduled ones that no longer fall in the course go. Then the times of the rest follow
    the habit, and any occurrence now due is generated; the course may have finished or
    reopened. No edit expires an occurrence at once: none is born, nor re-timed, with its
    fix deadline already past.
    """
    changed = set(changed)
    if "reminders" in changed:
        _rearm_reminders(Habit.objects.get(pk=habit_id), now=timezone.now())
    if not changed & SCHEDULE_FIELDS:
        return
    habit = Habit.objects.get(pk=habit_id)
    now = timezone.now()
    scheduled = HabitInstance.objects.filter(habit=habit, status=Status.SCHEDULED)
    if not habit.is_active:
        scheduled.delete()
        programs_settle(habit_ids=[habit.pk])
        return
    if changed & {"start_date", "periodicity_days", "repeat_limit"}:
        HabitInstance.objects.filter(pk__in=_out_of_course(habit, scheduled)).delete()
    if changed & {"time_of_day", "grace_minutes", "fix_minutes"}:
        retimed, _ = _retime_scheduled(
            scheduled.select_related("habit__user"), now=now, if_over="keep"
        )
        _record_instances(INSTANCE_UPDATED, ids=retimed, user_ids={habit.user_id})
    # An edit is a first day too (re-activated, or a new start, period or limit): nothing is
    # born expired, now or by a later run over today, an occurrence already over is left out
    # and the course stretches past it.
    Habit.objects.filter(pk=habit.pk).update(planned_from=now)
    instances_generate_for(habit_ids=[habit.pk], now=now, fresh=True)
    # A new limit (or schedule) may have finished the course, or reopened it.
    programs_settle(habit_ids=[habit.pk])


def instances_on_timezone_changed(*, user_id: int) -> None:
    """A user moved: scheduled instances take the new offsets, new local dates are covered.
    Runs inside the transaction that moved them (the reaction to `user.timezone_changed`).

    A move is a first day for every habit of theirs: one whose new times are already over
    is skipped for travel, and no occurrence is born over, now or by a later run (a trip
    there and back, or east, fails nothing the user never had a chance at)."""
    now = timezone.now()
    # On the user's row, which the move locked already (a lock on each habit here would be
    # taken in the opposite order to a habit edit's, which locks its habit, then the user).
    User.objects.filter(pk=user_id).update(timezone_since=now)
    scheduled = HabitInstance.objects.filter(user_id=user_id, status=Status.SCHEDULED)
    moved, skipped = _retime_scheduled(
        scheduled.select_related("habit__user"), now=now, if_over="skip"
    )
    # Also when nothing moved: the local date itself may have.
    _record_instances(INSTANCE_UPDATED, ids=moved, user_ids={user_id})
    if skipped:  # `refitting` none: the move generates every habit of theirs just below
        record(INSTANCE_SKIPPED, ids=skipped, user_ids={user_id}, refitting=[])
    instances_generate_for(user_ids=[user_id], now=now, fresh=True)


def _near_their_end(habit_ids: Collection[int], instance_ids: Collection[int]) -> list[Habit]:
    """The habits named, or those of the instances named, whose course may move across a day
    the periodic run has already planned (`course_may_stretch`); one read."""
    ids = set(habit_ids)
    if instance_ids:
        of = HabitInstance.objects.filter(pk__in=instance_ids).values_list("habit_id", flat=True)
        ids.update(of.distinct())
    habits = Habit.objects.filter(pk__in=ids).select_related("user").order_by("pk")
    return [
        habit
        for habit in habits
        if course_may_stretch(habit, tomorrow=local_today(habit.user.timezone) + timedelta(1))
    ]


def instances_stretch_courses(
    *, habit_ids: Collection[int] = (), instance_ids: Collection[int] = ()
) -> None:
    """A skip (or a pause's) takes occurrences out of the course, which stretches past them
    by as many grid days. The periodic run covers each local date once, so a stretched day it
    planned before the skip would stay a gap: near the course's end, the current and next
    local dates of the habits named (or of the instances named) are generated now, in the
    skip's transaction (nothing already over is born: the course then stretches further)."""
    if habits := _near_their_end(habit_ids, instance_ids):
        instances_generate_for(habit_ids=[habit.pk for habit in habits], fresh=True)


def instances_shrink_courses(
    *, habit_ids: Collection[int] = (), instance_ids: Collection[int] = ()
) -> None:
    """An undone skip (or a pause given back) takes occurrences into the course again, and it
    shrinks back: near its end, the scheduled occurrence a stretch made is now one too many,
    and goes (one under way stays, as when the limit is lowered)."""
    owners: dict[int, int] = {}
    for habit in _near_their_end(habit_ids, instance_ids):
        scheduled = HabitInstance.objects.filter(habit=habit, status=Status.SCHEDULED)
        if gone := _out_of_course(habit, scheduled):
            HabitInstance.objects.filter(pk__in=gone).delete()
            owners[habit.pk] = habit.user_id
    if owners:
        record(INSTANCE_DELETED, owners=owners, user_ids=set(owners.values()))


@transaction.atomic
def instances_delete(*, instances: QuerySet[HabitInstance]) -> int:
    """Delete by hand (the admin's door): the owners' `today` lists and the habits' stats
    follow, like after any change. Returns how many went."""
    owners = dict(instances.values_list("habit_id", "user_id"))
    deleted, _ = instances.delete()
    if owners:
        record(INSTANCE_DELETED, owners=owners, user_ids=set(owners.values()))
    return deleted
