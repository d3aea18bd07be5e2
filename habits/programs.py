"""A habit's program (SPEC §7), as habits declares it: the shape every habit answer carries,
and the hook through which the app that owns the instances computes it.

habits knows nothing of instances (the layers run one way), so instances registers its
computation here from its AppConfig.ready(); `with_programs` attaches the numbers to habits
before they are rendered, for many habits in one query.
"""

from collections.abc import Callable, Iterable, Sequence

from ninja import Schema

from habits.models import Habit


class ProgramOut(Schema):
    """The course: `limit` counted (not skipped) occurrences; `remaining` of them still to be
    generated; `finished` once none remains and every counted one is resolved."""

    limit: int
    done: int
    failed: int
    skipped: int
    remaining: int
    finished: bool


ProgramSource = Callable[[Sequence[Habit]], dict[int, ProgramOut]]

_source: list[ProgramSource] = []


def programs_source_register(source: ProgramSource) -> None:
    """Set the function computing programs of habits (instances registers it at start-up)."""
    _source[:] = [source]


def program_untouched(habit: Habit) -> ProgramOut:
    """The program of a habit with no instance yet."""
    limit = habit.repeat_limit
    return ProgramOut(limit=limit, done=0, failed=0, skipped=0, remaining=limit, finished=False)


def with_programs(habits: Iterable[Habit]) -> list[Habit]:
    """The habits, each with `.program` attached (one query for all)."""
    listed = list(habits)
    programs = _source[0](listed) if _source and listed else {}
    for habit in listed:
        habit.program = programs.get(habit.pk) or program_untouched(habit)  # type: ignore[attr-defined]
    return listed


def program_of(habit: Habit) -> ProgramOut:
    """The habit's attached program, computed now if none is attached."""
    program = getattr(habit, "program", None)
    return program if program is not None else with_programs([habit])[0].program  # type: ignore[attr-defined]
