from collections.abc import Iterable
from datetime import date

from django.db.models import QuerySet

from accounts.models import User
from accounts.timezones import local_today
from core.errors import NotFound
from habits.models import Habit
from instances.models import DONE_STATUSES, HabitInstance, Pause, Status


def instance_locked(
    *,
    instance_id: int,
    user_id: int,
    related: tuple[str, ...] = ("habit",),
    lock_habit: bool = False,
    only: tuple[str, ...] = (),
) -> HabitInstance:
    """The owner's instance, its row locked for the caller's transaction (its habit and the
    `related` rows read with it, not locked). The owner is part of the locking read, so
    someone else's id reads as missing: NotFound, never a hint that it exists.

    `lock_habit`: the habit row is locked too, in the same statement, for a change that may
    finish the habit's course (instances/services/program.py, `programs_settle_locked`).
    `FOR NO KEY UPDATE` either way: no key changes, and a new row's foreign key check on
    the instance or the habit is not held up. `only`: the fields the caller reads (the
    others are not loaded: a 60-column row of three tables costs more to build than to read).
    """
    locked = ("self", "habit") if lock_habit else ("self",)
    rows = HabitInstance.objects.select_for_update(no_key=True, of=locked).select_related(*related)
    try:
        return (rows.only(*only) if only else rows).get(pk=instance_id, user_id=user_id)
    except HabitInstance.DoesNotExist:
        raise NotFound from None


def instance_list_for(*, user: User) -> QuerySet[HabitInstance]:
    """The user's instances, with the habit loaded for the payload (one join, no N+1)."""
    return HabitInstance.objects.filter(user=user).select_related("habit")


# What a listed instance's payload (InstanceOut) and the bot's /today read: the busiest list
# loads only these (a quarter less time per request than whole rows of both tables).
LISTED_FIELDS = (
    *("id", "habit_id", "user_id", "date", "status", "completed_at", "source", "skip_reason"),
    "note",
    *("scheduled_at", "grace_deadline", "fix_deadline", "habit__action", "habit__place"),
)


def instance_list_today(*, user: User, today: date | None = None) -> QuerySet[HabitInstance]:
    """Instances on the user's current local date, of active habits, in time order."""
    today = today or local_today(user.timezone)
    return (
        instance_list_for(user=user)
        .filter(date=today, habit__is_active=True)
        .only(*LISTED_FIELDS)
        .order_by("scheduled_at", "id")
    )


def instance_list_for_habit(*, habit: Habit) -> QuerySet[HabitInstance]:
    return (
        HabitInstance.objects.filter(habit=habit).select_related("habit").order_by("-date", "-id")
    )


# Resolved one way or the other by now (a skip is neither: it is passed over).
RESOLVED_STATUSES = (*DONE_STATUSES, Status.MISSED, Status.FIX_EXPIRED)


def instance_previous_resolved(*, instance: HabitInstance) -> HabitInstance | None:
    """The newest resolved instance of the same habit before this one (status loaded)."""
    earlier = HabitInstance.objects.filter(
        habit_id=instance.habit_id, date__lt=instance.date, status__in=RESOLVED_STATUSES
    )
    return earlier.only("id", "status").order_by("-date").first()


def instances_by_ids(ids: Iterable[int]) -> QuerySet[HabitInstance]:
    return HabitInstance.objects.filter(pk__in=list(ids)).select_related("habit").order_by("id")


def habit_owners_of(ids: Iterable[int]) -> dict[int, int]:
    """`{habit_id: user_id}` of the habits these instances belong to."""
    return dict(HabitInstance.objects.filter(pk__in=list(ids)).values_list("habit_id", "user_id"))


def pauses_not_ended(*, user: User) -> QuerySet[Pause]:
    """The user's pauses under way and to come, soonest first."""
    return Pause.objects.filter(user=user, end_date__gte=local_today(user.timezone)).order_by(
        "start_date", "id"
    )


def pause_under_way(*, user: User) -> Pause | None:
    """The pause of every habit that covers the user's today, if any (the bot's /resume)."""
    today = local_today(user.timezone)
    return (
        Pause.objects.filter(
            user=user, habit__isnull=True, start_date__lte=today, end_date__gte=today
        )
        .order_by("id")
        .first()
    )
