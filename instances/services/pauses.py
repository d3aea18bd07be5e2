"""Pauses (SPEC §7): local dates on which every habit, or one, is set aside.

A pause turns the open instances on its dates skipped (with its reason) and generation
creates the instances of paused dates skipped; what is final (done or expired) never
changes. Ending or deleting a pause gives back, by the clock, what it skipped and is not
final, unless another pause still covers it (overlapping pauses compose).
"""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.timezones import local_today
from core.errors import InvalidInput, NotFound
from core.events import record
from habits.models import Habit
from instances.clock import status_by_clock_expression
from instances.events import (
    INSTANCE_SKIPPED,
    INSTANCE_UPDATED,
    PAUSE_CREATED,
    PAUSE_DELETED,
    PAUSE_UPDATED,
)
from instances.models import OPEN_STATUSES, PAUSE_MAX_DAYS, HabitInstance, Pause, SkipReason, Status
from instances.services.rearm import reminders_rearm


def _covered(pause: Pause) -> QuerySet[HabitInstance]:
    """The owner's instances on the pause's dates, of its habit (or of every habit)."""
    instances = HabitInstance.objects.filter(
        user_id=pause.user_id, date__gte=pause.start_date, date__lte=pause.end_date
    )
    return instances.filter(habit_id=pause.habit_id) if pause.habit_id else instances


def _check_dates(start_date: date, end_date: date) -> None:
    if end_date < start_date:
        raise InvalidInput.field("end_date", "Must be on or after start_date.")
    if (end_date - start_date).days + 1 > PAUSE_MAX_DAYS:
        raise InvalidInput.field("end_date", f"A pause lasts at most {PAUSE_MAX_DAYS} days.")


def _skip_covered(pause: Pause) -> list[int]:
    """Open instances on the pause's dates become skipped by it (one conditional UPDATE)."""
    covered = _covered(pause).filter(status__in=OPEN_STATUSES).select_for_update()
    ids = list(covered.values_list("id", flat=True))
    HabitInstance.objects.filter(pk__in=ids, status__in=OPEN_STATUSES).update(
        status=Status.SKIPPED, skip_reason=pause.reason, pause=pause, updated_at=timezone.now()
    )
    return ids


def pause_check(*, user: User, start_date: date, end_date: date, habit_id: int | None) -> None:
    """422 unless the dates are in order and at most PAUSE_MAX_DAYS long, and the habit (if
    any) is the owner's: the admin's form asks before `pause_create`, as the API does in it."""
    _check_dates(start_date, end_date)
    if habit_id is not None and not Habit.objects.filter(pk=habit_id, user=user).exists():
        raise InvalidInput.field("habit_id", "Must be one of your own habits.")


@transaction.atomic
def pause_create(
    *,
    user: User,
    start_date: date,
    end_date: date,
    habit_id: int | None = None,
    reason: SkipReason = SkipReason.REST,
) -> Pause:
    pause_check(user=user, start_date=start_date, end_date=end_date, habit_id=habit_id)
    pause = Pause.objects.create(
        user=user, habit_id=habit_id, start_date=start_date, end_date=end_date, reason=reason
    )
    record(PAUSE_CREATED, pause_id=pause.pk, user_id=user.pk)
    if skipped := _skip_covered(pause):
        record(INSTANCE_SKIPPED, ids=skipped, user_ids={user.pk})
    return pause


def _give_back(pause: Pause, instances: QuerySet[HabitInstance], now: datetime) -> list[int]:
    """The pause's skipped instances among `instances` go back by the clock, except those
    another pause still covers: they pass to it."""
    own = list(
        instances.filter(pause=pause).select_for_update().values_list("id", "habit_id", "date")
    )
    others = Pause.objects.filter(user_id=pause.user_id).exclude(pk=pause.pk)
    returned, passed = [], {}
    for pk, habit_id, on in list(own):
        cover = (
            others.filter(start_date__lte=on, end_date__gte=on)
            .filter(Q(habit_id__isnull=True) | Q(habit_id=habit_id))
            .order_by("id")
            .first()
        )
        if cover is None:
            returned.append(pk)
        else:
            passed.setdefault(cover, []).append(pk)
    for cover, ids in passed.items():
        HabitInstance.objects.filter(pk__in=ids).update(pause=cover, skip_reason=cover.reason)
    HabitInstance.objects.filter(pk__in=returned, status=Status.SKIPPED).update(
        status=status_by_clock_expression(now), skip_reason="", pause=None, updated_at=now
    )
    reminders_rearm(instance_ids=returned, now=now)
    return returned


def _owned(*, pause_id: int, user: User) -> Pause:
    try:
        return Pause.objects.select_for_update().get(pk=pause_id, user=user)
    except Pause.DoesNotExist:
        raise NotFound from None


@transaction.atomic
def pause_delete(*, pause_id: int, user: User) -> None:
    """The pause goes; what it skipped and is not final comes back by the clock."""
    pause = _owned(pause_id=pause_id, user=user)
    returned = _give_back(pause, _covered(pause), timezone.now())
    pause.delete()
    record(PAUSE_DELETED, pause_id=pause_id, user_id=user.pk)
    if returned:  # `given_back`: their courses shrink back (config/reactions.py)
        record(INSTANCE_UPDATED, ids=returned, user_ids={user.pk}, given_back=True)


@transaction.atomic
def pause_end(*, pause_id: int, user: User) -> Pause | None:
    """End the pause before today (the user's local date): today and later come back, the
    days already paused stay skipped. One that has not begun by today is deleted (None)."""
    pause = _owned(pause_id=pause_id, user=user)
    today = local_today(user.timezone)
    if pause.start_date >= today:
        pause_delete(pause_id=pause_id, user=user)
        return None
    if pause.end_date < today:
        return pause  # over already
    returned = _give_back(pause, _covered(pause).filter(date__gte=today), timezone.now())
    pause.end_date = today - timedelta(days=1)
    pause.save(update_fields=["end_date"])
    record(PAUSE_UPDATED, pause_id=pause.pk, user_id=user.pk)
    if returned:  # `given_back`: their courses shrink back (config/reactions.py)
        record(INSTANCE_UPDATED, ids=returned, user_ids={user.pk}, given_back=True)
    return pause
