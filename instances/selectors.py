from collections.abc import Iterable
from datetime import date
from functools import cache

from django.db import connection
from django.db.models import QuerySet

from accounts.models import User
from accounts.timezones import local_today
from core.errors import NotFound
from core.prepared import prepared_cursor
from core.rows import model_fields_ordered, row_load
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


# What a single instance's change by its owner reads (a completion, a skip, an un-skip): the
# fields it decides on and the frame shows (LISTED_FIELDS's own), the time of the last change
# and the pause; with them its habit's action, place and course and the owner's time zone.
CHANGE_FIELDS = model_fields_ordered(
    HabitInstance,
    [*(name for name in LISTED_FIELDS if "__" not in name), "updated_at", "pause_id"],
)


@cache
def _change_locking_sql(lock_of: bool) -> str:
    """The locking read of `instance_locked_for_change` as SQL text: the ORM took longer to
    build this three-table `select_related … FOR NO KEY UPDATE OF` than PostgreSQL took to
    answer it (docs/PERFORMANCE.md, "The write path, round two")."""
    columns = ", ".join(f"i.{HabitInstance._meta.get_field(name).column}" for name in CHANGE_FIELDS)
    lock = " FOR NO KEY UPDATE OF i, h" if lock_of else ""  # SQLite: the write lock is the file's
    return (
        f"SELECT {columns}, h.action, h.place, h.periodicity_days, h.repeat_limit, "  # noqa: S608
        "h.start_date, u.timezone "
        f"FROM {HabitInstance._meta.db_table} i "
        f"JOIN {Habit._meta.db_table} h ON h.id = i.habit_id "
        f"JOIN {User._meta.db_table} u ON u.id = i.user_id "
        f"WHERE i.id = %s AND i.user_id = %s{lock}"
    )


def instance_locked_for_change(*, instance_id: int, user_id: int) -> HabitInstance:
    """`instance_locked(lock_habit=True, related=("habit", "user"), only=...)` for the busiest
    writes, planned once per connection: the owner's instance (NotFound for anyone else's),
    its row and its habit's locked for the caller's transaction, with `CHANGE_FIELDS`, the
    habit's action, place and course (start, period, limit) and the owner's time zone
    loaded (any other field loads on first use, as with `only`)."""
    sql = _change_locking_sql(connection.features.has_select_for_update_of)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [instance_id, user_id])
        row = cursor.fetchone()
    if row is None:
        raise NotFound
    *fields, action, place, periodicity_days, repeat_limit, start_date, timezone = row
    instance = row_load(HabitInstance, CHANGE_FIELDS, fields)
    instance.habit = Habit.from_db(  # the names in the model's order, as `from_db` reads them
        None,
        ["id", "action", "place", "periodicity_days", "repeat_limit", "start_date"],
        [instance.habit_id, action, place, periodicity_days, repeat_limit, start_date],
    )
    instance.user = User.from_db(None, ["id", "timezone"], [user_id, timezone])
    return instance


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
    return HabitInstance.objects.filter(habit=habit).select_related("habit").order_by("-date")


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
