"""Base schema for request bodies: unknown fields and NUL bytes are refused with a 422."""

import json
from typing import Any

from ninja import Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import ConfigDict, field_validator


class InputSchema(Schema):
    """A request body. Extra keys are an error: a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_bytes(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text; refusing it here keeps it a 422, not a 500.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class Message(Schema):
    """401, 404, 409 and 429 answers."""

    detail: str


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    """422: every bad field, each with its path in `loc`."""

    detail: list[FieldError]


def as_json(schema: type[Schema], obj: Any) -> Any:
    """`obj` as the API renders it through `schema`: the same JSON for REST and WebSocket."""
    dumped = schema.from_orm(obj).model_dump(by_alias=False)
    return json.loads(json.dumps(dumped, cls=NinjaJSONEncoder))
