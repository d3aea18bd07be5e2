import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from core.schemas import InputSchema
from core.types import MAX_ID
from habits.models import (
    MAX_CUE_DELAY_MINUTES,
    MAX_FIX_MINUTES,
    MAX_GRACE_MINUTES,
    MAX_REMINDERS,
    MIN_REMINDER_OFFSET,
    Habit,
)
from habits.programs import ProgramOut, program_of


def _whole_minute(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("is a local time: give HH:MM without an offset")
    if value.second or value.microsecond:
        raise ValueError("must be a whole minute, HH:MM")
    return value


# What a client may send: HH:MM (":00" seconds tolerated). The pattern is also the documented
# schema, so what the OpenAPI document promises and what is accepted are the same set.
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:00(\.0{1,6})?)?$"


def _hour_minute_text(value: Any) -> Any:
    if isinstance(value, time):  # from Python, not from a request
        return value
    # A number too: pydantic would read it as seconds past midnight, in UTC.
    if not isinstance(value, str) or not re.fullmatch(LOCAL_TIME_PATTERN, value):
        raise ValueError("must be a local time HH:MM, without seconds or an offset")
    return value


LocalTime = Annotated[
    time,
    BeforeValidator(_hour_minute_text),
    AfterValidator(_whole_minute),
    WithJsonSchema({"type": "string", "pattern": LOCAL_TIME_PATTERN, "examples": ["07:30"]}),
]
# Out: a local wall time as the person wrote it, "HH:MM".
HourMinute = Annotated[time, PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)]


def _distinct(value: list[int]) -> list[int]:
    if len(set(value)) != len(value):
        raise ValueError("reminder offsets must be distinct")
    return value


class HabitIn(InputSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action": "Read 10 pages",
                    "place": "sofa",
                    "time_of_day": "21:30",
                    "reward_text": "a cup of tea",
                    "periodicity_days": 1,
                },
            ]
        }
    )

    action: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    place: Annotated[str, StringConstraints(max_length=255)] = ""
    time_of_day: LocalTime
    is_pleasant: bool = False
    reward_text: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    related_pleasant_habit: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    periodicity_days: Literal[1, 2, 3, 5, 7] = 1
    repeat_limit: Literal[21, 30, 45] = 21
    grace_minutes: Annotated[int, Field(ge=0, le=MAX_GRACE_MINUTES)] = 30
    fix_minutes: Annotated[int, Field(ge=0, le=MAX_FIX_MINUTES)] = 120
    start_date: date | None = Field(
        None, description="Local date; today in your timezone if omitted."
    )
    is_public: bool = False
    is_active: bool = True
    reminders: Annotated[
        list[Annotated[int, Field(ge=MIN_REMINDER_OFFSET, le=MAX_GRACE_MINUTES + MAX_FIX_MINUTES)]],
        Field(min_length=1, max_length=MAX_REMINDERS),
        AfterValidator(_distinct),
    ] = Field(
        default_factory=lambda: [0],
        description="Minutes from the scheduled time, 1 to 5 distinct, each from -720 to "
        "grace_minutes + fix_minutes.",
    )
    cue_habit_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    cue_delay_minutes: Annotated[int, Field(ge=0, le=MAX_CUE_DELAY_MINUTES)] = 0


class HabitOut(Schema):
    id: int
    action: str
    place: str
    time_of_day: HourMinute
    is_pleasant: bool
    reward_text: str | None
    related_pleasant_habit: int | None = Field(None, alias="related_pleasant_habit_id")
    periodicity_days: int
    repeat_limit: int
    grace_minutes: int
    fix_minutes: int
    start_date: date
    is_public: bool
    is_active: bool
    reminders: list[int]
    cue_habit_id: int | None
    cue_delay_minutes: int
    created_at: datetime
    updated_at: datetime
    program: ProgramOut

    @staticmethod
    def resolve_program(obj: Habit) -> ProgramOut:
        # Attached for a whole page at once by `with_programs`; computed here otherwise.
        return program_of(obj)


class PublicHabitOut(Schema):
    """A habit in the public feed: what and how often, never who."""

    id: int
    action: str
    place: str
    time_of_day: HourMinute
    is_pleasant: bool
    reward_text: str | None
    periodicity_days: int
    repeat_limit: int
