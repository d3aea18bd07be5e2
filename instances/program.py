"""The program of a habit (SPEC §7), computed from its instances.

`repeat_limit` counts the occurrences that are not skipped nor imported (history brought
from a file, SPEC §9, is not part of a course): a skip extends the course by one
occurrence on the date grid. `remaining` is the limit less the counted occurrences generated
so far (never below 0), and the program is `finished` when none remains and every counted
one is resolved (done or expired). Registered into habits/programs.py at start-up
(instances/apps.py), so every habit answer carries it.
"""

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from django.db.models import Count, Q

from habits.models import Habit
from habits.programs import ProgramOut
from instances.models import DONE_STATUSES, OPEN_STATUSES, HabitInstance, Source, Status

# The occurrences a course counts: not skipped, and not imported (history brought from a
# file). Generation counts the same (instances/generation.py), and so must every reader
# that plans the course ahead (the lifecycle's re-plan, the calendar feed).
IN_COURSE = ~Q(status=Status.SKIPPED) & ~Q(source=Source.IMPORT)


def course_may_stretch(habit: Habit, *, tomorrow: date) -> bool:
    """Whether setting one of the habit's occurrences aside may stretch its course onto a day
    generation has already planned (its last is tomorrow, the owner's next local date): the
    plain course, `repeat_limit` grid days from the start, ends by then. Past that the stretch
    is a day still ahead of every run, planned when its run comes."""
    last = habit.start_date + timedelta(days=habit.periodicity_days * (habit.repeat_limit - 1))
    return last <= tomorrow


def in_course(instance: HabitInstance) -> bool:
    """`IN_COURSE` for a row in hand."""
    return instance.status != Status.SKIPPED and instance.source != Source.IMPORT


def program(
    *, limit: int, done: int, failed: int, skipped: int, counted: int, open: int
) -> ProgramOut:
    """The numbers from the counts of the habit's instances (`counted`: not skipped; `open`:
    counted and not yet resolved)."""
    remaining = max(0, limit - counted)
    return ProgramOut(
        limit=limit,
        done=done,
        failed=failed,
        skipped=skipped,
        remaining=remaining,
        finished=remaining == 0 and open == 0,
    )


def _counts(habit_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per habit: done, failed, skipped, counted and open instances (one grouped query)."""
    rows = (
        HabitInstance.objects.filter(habit_id__in=list(habit_ids))
        .exclude(source=Source.IMPORT)
        .values("habit_id")
        .annotate(
            done=Count("id", filter=Q(status__in=DONE_STATUSES)),
            failed=Count("id", filter=Q(status__in=(Status.MISSED, Status.FIX_EXPIRED))),
            skipped=Count("id", filter=Q(status=Status.SKIPPED)),
            counted=Count("id", filter=~Q(status=Status.SKIPPED)),
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        )
        .order_by()
    )
    return {row.pop("habit_id"): row for row in rows}


NONE = {"done": 0, "failed": 0, "skipped": 0, "counted": 0, "open": 0}


def programs_of(habits: Sequence[Habit]) -> dict[int, ProgramOut]:
    """The programs of these habits, by habit id, in one query."""
    counts = _counts(habit.pk for habit in habits)
    return {
        habit.pk: program(limit=habit.repeat_limit, **counts.get(habit.pk, NONE))
        for habit in habits
    }
