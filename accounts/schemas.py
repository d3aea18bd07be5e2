import re
from datetime import datetime, time
from typing import Annotated, Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    model_validator,
)

from accounts.models import User
from accounts.quiet_hours import hhmm
from accounts.timezones import is_known_timezone
from core.schemas import InputSchema


def _known_timezone(name: str) -> str:
    if not is_known_timezone(name):
        raise ValueError(f"{name!r} is not a known IANA time zone")
    return name


def _email_address(value: str) -> str:
    # Django's validator, not pydantic's EmailStr: EmailStr rewrites IDN domains, and the
    # stored address must be the one the person types at login.
    try:
        validate_email(value.strip())
    except ValidationError as exc:
        raise ValueError("enter a valid email address") from exc
    return value


def _strong_password(value: str) -> str:
    try:
        validate_password(value)
    except ValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from exc
    return value


Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
NewPassword = Annotated[Password, AfterValidator(_strong_password)]
TimezoneName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_timezone)
]


class RegisterIn(InputSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ann@example.com",
                    "password": "correct horse battery",
                    "timezone": "Europe/Berlin",
                }
            ]
        }
    )

    email: Annotated[str, StringConstraints(max_length=254), AfterValidator(_email_address)]
    password: NewPassword
    timezone: TimezoneName = "UTC"


class LoginIn(InputSchema):
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Password


class RefreshIn(InputSchema):
    refresh: Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class PasswordChangeIn(InputSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"old_password": "correct horse battery", "new_password": "staple 4 sure"}]
        }
    )

    old_password: Password
    new_password: NewPassword


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _wall_time(value: str) -> str:
    if not HHMM.fullmatch(value):
        raise ValueError("must be a local time HH:MM, from 00:00 to 23:59")
    return value


WallTime = Annotated[str, AfterValidator(_wall_time)]


class QuietHours(InputSchema):
    """Local wall-clock times in the user's time zone; `end` may be past midnight."""

    start: WallTime
    end: WallTime

    @model_validator(mode="after")
    def _not_empty(self) -> "QuietHours":
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self

    def times(self) -> tuple[time, time]:
        return time.fromisoformat(self.start), time.fromisoformat(self.end)


class MePatch(InputSchema):
    """A partial update: a field left out keeps its value; `null` is refused for `timezone`,
    and clears `quiet_hours`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"timezone": "America/Denver"},
                {"quiet_hours": {"start": "22:00", "end": "07:00"}},
                {"quiet_hours": None},
            ]
        }
    )

    timezone: Annotated[TimezoneName | None, BeforeValidator(_not_null)] = None
    quiet_hours: QuietHours | None = None


class QuietHoursOut(Schema):
    start: str
    end: str


class UserOut(Schema):
    id: int
    email: str
    timezone: str
    date_joined: datetime
    quiet_hours: QuietHoursOut | None

    @staticmethod
    def resolve_quiet_hours(obj: User) -> dict[str, Any] | None:
        quiet = obj.quiet_hours
        return None if quiet is None else {"start": hhmm(quiet[0]), "end": hhmm(quiet[1])}


class TokenPairOut(Schema):
    access: str
    refresh: str
    token_type: str
    expires_in: int


class PersonalTokenIn(InputSchema):
    # Lengths, scopes and days are checked by the service (accounts/services.py), which
    # names each field in its 422.
    name: str
    scopes: list[str]
    expires_in_days: int | None = None


class PersonalTokenOut(Schema):
    """A token as listed: never its secret, only its first characters (`prefix`)."""

    id: int
    name: str
    scopes: list[str]
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class PersonalTokenCreatedOut(PersonalTokenOut):
    token: str  # the secret, in this answer only
