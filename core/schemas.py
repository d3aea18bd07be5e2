"""Base schema for request bodies: unknown fields and NUL bytes are refused with a 422."""

import json
import types
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from django.conf import settings
from django.http import HttpResponse
from ninja import Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import ConfigDict, ValidationInfo, field_validator


def admits_none(annotation: Any) -> bool:
    """Whether a field typed `annotation` may be None (`X | None`, `Optional[X]`, `Any`)."""
    if annotation is None or annotation is type(None) or annotation is Any:
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return admits_none(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(admits_none(arg) for arg in get_args(annotation))
    return False


def admits_bool(annotation: Any) -> bool:
    """Whether a field typed `annotation` takes `true`/`false` as such (`bool`, `Any`, a
    `Literal` of booleans). Pydantic reads `true` as 1 for an `int`; a person who sent it
    meant something else."""
    if annotation is bool or annotation is Any:
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return any(isinstance(arg, bool) for arg in get_args(annotation))
    if origin in (Annotated, Union, types.UnionType):
        args = get_args(annotation)[:1] if origin is Annotated else get_args(annotation)
        return any(admits_bool(arg) for arg in args)
    return False


def _item_type(annotation: Any) -> Any:
    """The item type of a `list[...]` field (through Annotated and `| None`), else None."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _item_type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        items = [t for t in map(_item_type, get_args(annotation)) if t is not None]
        return items[0] if items else None
    if origin is list:
        return get_args(annotation)[0]
    return None


def _stray_bool(annotation: Any, value: Any) -> bool:
    """A boolean where the field (or a list field's item) wants no boolean."""
    if isinstance(value, bool):
        return not admits_bool(annotation)
    if isinstance(value, list) and (item := _item_type(annotation)) is not None:
        return any(isinstance(v, bool) for v in value) and not admits_bool(item)
    return False


class InputSchema(Schema):
    """A request body. Extra keys are an error: a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid")
    # The fields whose type has no None, as first declared. A subclass keeps them: Ninja's
    # PatchDict derives a schema whose every field is optional, and there `null` must still
    # be refused for these rather than written over the stored value.
    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        declared = {n for n, f in cls.model_fields.items() if not admits_none(f.annotation)}
        cls.NOT_NULL = cls.NOT_NULL | declared

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_bytes_or_null(cls, value: Any, info: ValidationInfo) -> Any:
        # PostgreSQL cannot store NUL in text; refusing it here keeps it a 422, not a 500.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if value is None and info.field_name in cls.NOT_NULL:
            raise ValueError("must not be null")
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _stray_bool(field.annotation, value):
            raise ValueError("must not be true or false here")
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


def rendered(schema: type[Schema], obj: Any) -> bytes:
    """`obj` as the bytes the API's renderer would answer for `schema` (same encoder): what a
    cache of an answer keeps, and sends as it is (`json_response`)."""
    dumped = schema.from_orm(obj).model_dump(by_alias=False)
    return json.dumps(dumped, cls=NinjaJSONEncoder).encode()


def json_response(body: bytes) -> HttpResponse:
    """A cached answer's bytes, with the headers the API's renderer sets on every JSON one."""
    return HttpResponse(body, content_type=f"application/json; charset={settings.DEFAULT_CHARSET}")
