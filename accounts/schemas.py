from datetime import datetime
from typing import Annotated

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, StringConstraints

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


class MePatch(InputSchema):
    """A partial update: a field left out keeps its value; `null` is refused, not a reset."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"timezone": "America/Denver"}]})

    timezone: Annotated[TimezoneName | None, BeforeValidator(_not_null)] = None


class UserOut(Schema):
    id: int
    email: str
    timezone: str
    date_joined: datetime


class TokenPairOut(Schema):
    access: str
    refresh: str
    token_type: str
    expires_in: int
