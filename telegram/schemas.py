from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import ConfigDict, Field

from core.schemas import InputSchema
from instances.schemas import InstanceOut
from telegram.services import SNOOZE_MAX_MINUTES, SNOOZE_MIN_MINUTES


class BindingOut(Schema):
    bound: bool
    username: str | None = None
    bound_at: datetime | None = None


class BindCodeOut(Schema):
    code: str
    expires_at: datetime
    link: str


class SnoozeIn(InputSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"minutes": 15}]})

    minutes: Annotated[int, Field(ge=SNOOZE_MIN_MINUTES, le=SNOOZE_MAX_MINUTES)]


class SnoozeOut(Schema):
    instance: InstanceOut
    remind_at: datetime
