"""The project's NinjaAPI: routers and the error handlers that keep one error vocabulary."""

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from accounts.api import router as auth_router
from accounts.api import tokens_router
from calendars.api import router as calendar_router
from config.middleware import outage_answer
from core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from habits.api import router as habits_router
from instances.api import habit_router as habit_instances_router
from instances.api import pauses_router
from instances.api import router as instances_router
from telegram.api import instance_router as telegram_instance_router
from telegram.api import router as telegram_router
from transfer.api import export_router, import_router
from webhooks.api import router as webhooks_router

logger = logging.getLogger(__name__)


class UnsupportedMediaType(Exception):
    """A body sent as something other than JSON."""


class JsonBodies(Parser):
    """A body an operation reads must be declared JSON: a form or text body is refused (415)
    rather than read as if it were JSON."""

    def parse_body(self, request: HttpRequest) -> Any:
        media_type = request.content_type.lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise UnsupportedMediaType(media_type)
        return super().parse_body(request)


api = NinjaAPI(
    title="Atomic Habits Tracker API",
    version="1.0.0",
    description="Habits, their scheduled instances, stats and Telegram binding.",
    docs_url="/docs",
    # Swagger UI would send the document's address to validator.swagger.io for a badge.
    docs=Swagger(settings={"validatorUrl": None}),
    urls_namespace="api",
    parser=JsonBodies(),
)


def _error(request: HttpRequest, status: int, detail: Any, **headers: str) -> HttpResponse:
    response = api.create_response(request, {"detail": detail}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


BODY_PARAM = "payload"  # every handler names its body parameter so


def _field_path(loc: list[Any]) -> list[Any]:
    """`["body", "payload", "timezone"]` -> `["body", "timezone"]`: the client's own field path."""
    if loc[:2] == ["body", BODY_PARAM]:
        return ["body", *loc[2:]]
    return loc


def _clean_pydantic_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Echoing `input` back could leak a password or a 10 kB string into the answer.
    return [
        {"loc": _field_path(list(e["loc"])), "msg": e["msg"], "type": e.get("type", "value_error")}
        for e in errors
    ]


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, _clean_pydantic_errors(exc.errors))


# The one place a domain refusal (core/errors.py) becomes an HTTP status.
DOMAIN_STATUS: dict[type[DomainError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    TooManyRequests: 429,
    DomainError: 400,
}


def _domain_status(exc: DomainError) -> int:
    # The nearest class in the table: a subclass of Conflict is still a 409.
    return next(DOMAIN_STATUS[c] for c in type(exc).__mro__ if c in DOMAIN_STATUS)


def _invalid_input_detail(exc: InvalidInput) -> list[dict[str, object]]:
    """Each problem located in the request body, as the validation errors are."""
    return [
        {"loc": ["body", *p.field.split(".")], "msg": p.msg, "type": p.type} for p in exc.problems
    ]


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = _domain_status(exc)
    if isinstance(exc, InvalidInput):
        return _error(request, status, _invalid_input_detail(exc))
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return _error(request, status, exc.message, **headers)


@api.exception_handler(DjangoValidationError)
def on_model_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """A model's `clean()` speaks Django; answer in the API's 422 shape."""
    detail = [
        {
            "loc": ["body"] if field == "__all__" else ["body", field],
            "msg": msg,
            "type": "value_error",
        }
        for field, messages in exc.message_dict.items()
        for msg in messages
    ]
    return _error(request, 422, detail)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request,
        401,
        "Authentication credentials were not provided or are not valid.",
        **{"WWW-Authenticate": "Bearer"},
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, UnsupportedMediaType):
        # Ninja wraps whatever the parser raised in a 400; the cause says which refusal it is.
        return _error(request, 415, "Request bodies are JSON: send Content-Type: application/json.")
    if exc.status_code == 400:
        # Ninja's only 400 is a body it could not parse: malformed JSON is invalid input.
        detail = [
            {"loc": ["body"], "msg": "Request body is not valid JSON.", "type": "json_invalid"}
        ]
        return _error(request, 422, detail)
    return _error(request, exc.status_code, exc.message)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """An outage is a 503 whatever DEBUG says (Ninja's own handler would answer a traceback
    as a 500 under DEBUG, as `make run` has it); anything else goes on to Django, a bug."""
    answer = outage_answer(request, exc)
    if answer is None:
        raise exc
    return answer


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "Not found.")


# Django tries URL patterns in order: the instances' first, for `GET today` (the most read
# path) matches third instead of nineteenth (docs/PERFORMANCE.md, per-request cost).
api.add_router("/instances/", instances_router)
api.add_router("/instances/", telegram_instance_router)  # snooze: one more reminder
api.add_router("/auth/", auth_router)
api.add_router("/habits/", habits_router)
api.add_router("/habits/", habit_instances_router)
api.add_router("/telegram/", telegram_router)
api.add_router("/pauses/", pauses_router)
api.add_router("/export/", export_router)
api.add_router("/import/", import_router)
api.add_router("/calendar/", calendar_router)
api.add_router("/tokens/", tokens_router)
api.add_router("/webhooks/", webhooks_router)
