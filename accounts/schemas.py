from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import EmailStr, StringConstraints

from config.schemas import InputSchema

Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
TimezoneName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class RegisterIn(InputSchema):
    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    password: Password
    timezone: TimezoneName = "UTC"


class LoginIn(InputSchema):
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Password


class RefreshIn(InputSchema):
    refresh: Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class PasswordChangeIn(InputSchema):
    old_password: Password
    new_password: Password


class MePatch(InputSchema):
    timezone: TimezoneName


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
