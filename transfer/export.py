"""The JSON export (SPEC §9): everything a person owns, in the API's own shapes, read in a
fixed number of queries whatever the history's length.

`export_json(user)` is the document `GET /api/export/?format=json` sends and `manage.py
export_user` writes: habits as `GET /api/habits/{id}/` answers them, instances as
`GET /api/habits/{id}/instances/` does (plus the pause that skipped one, so an import can
link them again), pauses as `GET /api/pauses/` does, every one of them, ended or not.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

from django.utils import timezone
from ninja import Schema
from pydantic import TypeAdapter, create_model
from pydantic.fields import FieldInfo

from accounts.models import User
from accounts.schemas import UserOut
from habits.models import Habit
from habits.programs import with_programs
from habits.schemas import HabitOut
from instances.models import HabitInstance, Pause
from instances.schemas import InstanceOut, PauseOut

FORMAT_NAME = "atomic-habits"
FORMAT_VERSION = 1
USER_KEYS = ("email", "timezone", "quiet_hours")

# (done, total) habits written: the operator's progress bar (manage.py export_user).
Progress = Callable[[int, int], None]


class ExportedInstance(InstanceOut):
    """An instance as the API shows it, and the pause that skipped it (null: none did)."""

    pause_id: int | None


# The columns the instances' shape reads (its resolvers take `habit` from the habits read).
INSTANCE_FIELDS = (
    *("id", "habit_id", "date", "scheduled_at", "grace_deadline", "fix_deadline", "status"),
    *("completed_at", "source", "skip_reason", "note", "pause_id"),
)

_instant_json = TypeAdapter(datetime)
_habits_json = TypeAdapter(list[HabitOut])
_pauses_json = TypeAdapter(list[PauseOut])


@dataclass
class Owned:
    """A user's habits (oldest first, programs attached) and pauses, read once."""

    habits: list[Habit]
    pauses: list[Pause]

    @property
    def habits_by_id(self) -> dict[int, Habit]:
        return {habit.pk: habit for habit in self.habits}


def owned_read(user: User) -> Owned:
    """Three queries: habits, their programs, pauses."""
    habits = with_programs(Habit.objects.filter(user=user).order_by("id"))
    pauses = list(Pause.objects.filter(user=user).order_by("start_date", "id"))
    return Owned(habits=habits, pauses=pauses)


def instances_by_habit(
    user: User, habits: dict[int, Habit], fields: tuple[str, ...] = INSTANCE_FIELDS
) -> Iterator[list[SimpleNamespace]]:
    """The instances of each habit that has some, oldest first: one streamed query of plain
    values (no model per row), each row given its habit from `habits` rather than a join."""
    rows = (
        HabitInstance.objects.filter(user=user)
        .order_by("habit_id", "date", "id")
        .values_list(*fields)
        .iterator(chunk_size=5000)
    )
    habit_at = fields.index("habit_id")
    current: list[SimpleNamespace] = []
    for row in rows:
        if current and current[0].habit_id != row[habit_at]:
            yield current
            current = []
        current.append(
            SimpleNamespace(**dict(zip(fields, row, strict=True)), habit=habits[row[habit_at]])
        )
    if current:
        yield current


@cache
def _plain(schema: type[Schema]) -> TypeAdapter:
    """A list of `schema`'s fields as a plain pydantic model: the same keys, types and
    serializers, validated in pydantic's core rather than attribute by attribute through
    Ninja's getter (a tenth of the cost for a long history)."""
    fields: dict[str, Any] = {
        name: (field.annotation, FieldInfo.merge_field_infos(field, alias=None))
        for name, field in schema.model_fields.items()
    }
    return TypeAdapter(list[create_model(f"{schema.__name__}Row", **fields)])  # type: ignore[valid-type]


def shaped_json(schema: type[Schema], rows: list[Any]) -> list[dict[str, Any]]:
    """`rows` as `schema` writes them in JSON, its resolvers applied to each row."""
    resolvers = {name: r._func for name, r in schema._ninja_resolvers.items()}  # type: ignore[attr-defined]
    plan = [
        (name, resolvers.get(name), field.validation_alias or field.alias or name)
        for name, field in schema.model_fields.items()
    ]
    values = [
        {name: resolve(row) if resolve else getattr(row, attr) for name, resolve, attr in plan}
        for row in rows
    ]
    adapter = _plain(schema)
    return adapter.dump_python(adapter.validate_python(values), mode="json")


def _user_json(user: User) -> dict[str, Any]:
    whole = UserOut.from_orm(user).model_dump(mode="json")
    return {key: whole[key] for key in USER_KEYS}


def export_json(
    user: User, *, now: datetime | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """The whole account as one JSON-ready document (SPEC §9), in four queries."""
    owned = owned_read(user)
    habits = owned.habits_by_id
    instances: list[dict[str, Any]] = []
    for done, rows in enumerate(instances_by_habit(user, habits), start=1):
        instances += shaped_json(ExportedInstance, rows)
        if progress:
            progress(done, len(habits))
    if progress:
        progress(len(habits), len(habits))
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": _instant_json.dump_python(now or timezone.now(), mode="json"),
        "user": _user_json(user),
        "habits": _habits_json.dump_python(
            _habits_json.validate_python(owned.habits, from_attributes=True),
            mode="json",
            by_alias=False,
        ),
        "instances": instances,
        "pauses": _pauses_json.dump_python(
            _pauses_json.validate_python(owned.pauses, from_attributes=True), mode="json"
        ),
    }
