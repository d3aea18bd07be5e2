"""Finishing a program (SPEC §7) is an event, told once per habit.

Runs inside the transaction of the change that may have finished (or reopened) a course, as
a WITHIN reaction (config/reactions.py): a completion, the sweep, a skip, a pause, generation,
an instance deleted, a schedule change of the habit.
"""

from collections.abc import Collection, Iterable
from datetime import date

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.bulk import among
from core.events import record
from habits.models import Habit
from instances.events import PROGRAM_FINISHED
from instances.models import FINAL_STATUSES, OPEN_STATUSES, HabitInstance, Source, Status
from instances.program import programs_of


def programs_settle(*, habit_ids: Iterable[int]) -> list[int]:
    """Mark the habits whose course is now finished, recording `program.finished` for each
    newly finished one, and clear the mark of those whose course reopened (a skip undone, a
    limit raised). Returns the ids of the newly finished habits.

    The habit rows are locked first (in id order), so two changes finishing the last two
    open occurrences at once cannot both read the other as still open.
    """
    ids = sorted(set(habit_ids))
    if not ids:
        return []
    with transaction.atomic():
        return _settle(ids)


def _settle(ids: list[int]) -> list[int]:
    if not ids:
        return []
    habits = list(
        Habit.objects.filter(pk__in=ids).order_by("pk").select_for_update(no_key=True, of=("self",))
    )
    now = timezone.now()
    finished, reopened = [], []
    for habit_id, program in programs_of(habits).items():
        habit = next(h for h in habits if h.pk == habit_id)
        if program.finished and habit.program_finished_at is None:
            finished.append((habit, program))
        elif not program.finished and habit.program_finished_at is not None:
            reopened.append(habit.pk)
    if reopened:
        Habit.objects.filter(pk__in=reopened).update(program_finished_at=None)
    if finished:
        Habit.objects.filter(pk__in=[h.pk for h, _ in finished]).update(program_finished_at=now)
    for habit, program in finished:
        record(
            PROGRAM_FINISHED,
            habit_id=habit.pk,
            user_id=habit.user_id,
            done=program.done,
            limit=program.limit,
        )
    return [h.pk for h, _ in finished]


def programs_settle_after(*, instance_ids: Collection[int], many: bool = False) -> list[int]:
    """`programs_settle` for the habits of these changed instances whose course may have
    finished or reopened. A course finishes only when an occurrence is resolved or skipped
    while `repeat_limit` counted ones exist and none is open, and reopens only once finished.

    A change of a few habits (a completion, a skip, a pause) locks them first, in id order,
    and only then probes: two changes finishing the last two open occurrences at once (web
    and bot) would each read the other's occurrence as still open without that order, and
    neither would tell; with it the second reads the first's commit. The probe for an open
    occurrence spares the count for nearly every habit under way.

    `many` (the sweep's and generation's expired rows, up to hundreds of thousands): locking
    every habit would write each habit row, so they probe first and lock only the habits the
    probe keeps, probing those again under the lock. What that leaves open is docs/
    DECISIONS.md's "a finish the sweep can miss": the user resolving the course's other last
    occurrence in the same instant as the sweep; the habit's `program.finished` is still true
    in every answer (it is computed), only the moment is not told."""
    if not instance_ids:
        return []
    # Inside the change's transaction (a WITHIN reaction): no savepoint of its own.
    with transaction.atomic(savepoint=False):
        touched = _touched_habits(list(instance_ids))
        if many:
            return _settle_probed(list(touched))
        locked = _locked(touched)
        return _settle(_maybe_settled(locked)) if locked else []


def programs_settle_expired(*, habit_ids: Collection[int], since: date) -> list[int]:
    """`programs_settle_after(many=True)` for the sweep, which names the habits of the
    instances it made final (fix_expired: each such habit is touched, no read to find them)
    and the earliest date among those instances: an occurrence still open is looked for from
    that date on (`_course_may_settle`), in the few newest rows of each habit."""
    if not habit_ids:
        return []
    with transaction.atomic(savepoint=False):
        return _settle_probed(sorted(habit_ids), since)


def _settle_probed(habit_ids: list[int], open_since: date | None = None) -> list[int]:
    """Many habits: probe first, lock only those the probe keeps, and probe those again under
    the lock (locking every one would write each habit row)."""
    locked = _locked(_maybe_settled(habit_ids, open_since))
    return _settle(_maybe_settled(locked, open_since)) if locked else []


def programs_settle_locked(*, habit_ids: Collection[int]) -> list[int]:
    """`programs_settle_after` for a change that locked its habits with its own locking read
    (a completion: `instance_locked(lock_habit=True)`) and resolved or skipped one of their
    occurrences: the probe and, only for a habit it keeps, the count."""
    if not habit_ids:
        return []
    with transaction.atomic(savepoint=False):
        return _settle(_maybe_settled(sorted(habit_ids)))


def _touched_habits(instance_ids: list[int]) -> QuerySet[HabitInstance, int]:
    """The habits of those instances that are resolved or skipped, or whose course is marked
    finished: only they can have finished or reopened."""
    settling = Q(status__in=(*FINAL_STATUSES, Status.SKIPPED))
    touched = HabitInstance.objects.filter(pk__in=instance_ids).filter(
        settling | Q(habit__program_finished_at__isnull=False)
    )
    return touched.values_list("habit_id", flat=True).distinct()


def _locked(habit_ids: Iterable[int]) -> list[int]:
    """Lock these habits in id order (a queryset of ids is read in the same statement).
    `FOR NO KEY UPDATE`: a new instance's foreign key check on the habit is not held up by
    it."""
    return list(
        Habit.objects.filter(pk__in=habit_ids)
        .order_by("pk")
        .select_for_update(no_key=True, of=("self",))
        .values_list("pk", flat=True)
    )


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)  # our own enum values, no input


_INSTANCES = HabitInstance._meta.db_table


def _course_may_settle(open_since: str = "") -> str:
    """The rule "this habit's course may have finished or reopened", on a habit row aliased
    `h`: marked finished, or no open occurrence and at least `repeat_limit` counted ones
    (skipped and imported ones do not count). The probe for an open occurrence comes first,
    so the count runs for nearly no habit under way.

    `open_since`: an SQL date; only occurrences of that date or later are probed for being
    open, read from the habit's newest rows through its (habit, date) index rather than
    every row it has (a habit's instances lie on as many pages as it has days). It can only
    keep more habits (an older open occurrence is not seen), never fewer, and what the
    probe keeps is counted exactly under the lock (`_settle`)."""
    since = f" AND o.date >= {open_since}" if open_since else ""
    return f"""(h.program_finished_at IS NOT NULL OR (
    NOT EXISTS (SELECT 1 FROM {_INSTANCES} o
                WHERE o.habit_id = h.id{since} AND o.status IN ({_quoted(OPEN_STATUSES)}))
    AND (SELECT count(*) FROM {_INSTANCES} c
         WHERE c.habit_id = h.id AND c.status <> '{Status.SKIPPED}'
           AND c.source <> '{Source.IMPORT}') >= h.repeat_limit))"""  # noqa: S608 (our enums)


# One text for every caller: `_maybe_settled` and the one-read probe of a single change
# (config/change_probe.py).
COURSE_MAY_SETTLE_SQL = _course_may_settle()


def _maybe_settled(habit_ids: list[int], open_since: date | None = None) -> list[int]:
    """Of these habits, those whose course may have finished or reopened
    (`COURSE_MAY_SETTLE_SQL`; `open_since`: see `_course_may_settle`)."""
    if not habit_ids:
        return []
    ids, params = among("h.id", habit_ids)
    rule = COURSE_MAY_SETTLE_SQL if open_since is None else _course_may_settle("%s")
    query = (
        f"SELECT h.id FROM {Habit._meta.db_table} h "  # noqa: S608 (placeholders only)
        f"WHERE {ids} AND {rule} ORDER BY h.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params if open_since is None else [*params, open_since])
        return [pk for (pk,) in cursor.fetchall()]
