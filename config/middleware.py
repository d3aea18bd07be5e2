"""Answers under /api/ are JSON even when Django itself refuses a request, and an outage of
the database or Redis is a quick 503 with Retry-After rather than a 500."""

import logging
from collections.abc import Callable

import pydantic
import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# What an outage of PostgreSQL or Redis raises; anything else is a bug and stays a 500.
INFRASTRUCTURE_ERRORS = (OperationalError, InterfaceError, redis.RedisError)
RETRY_AFTER_SECONDS = 5


def _class_names(roots: tuple[type[Exception], ...]) -> frozenset[str]:
    names, pending = set(), list(roots)
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return frozenset(names)


INFRASTRUCTURE_ERROR_NAMES = _class_names(INFRASTRUCTURE_ERRORS)


def is_outage(exception: Exception) -> bool:
    """The database or Redis did not answer, whether raised directly or met while a response
    was serialised: reading a lazy queryset or a deferred field inside pydantic turns the
    database's error into a ValidationError that names it (`"OperationalError: ..."`)."""
    if isinstance(exception, INFRASTRUCTURE_ERRORS):
        return True
    if isinstance(exception, pydantic.ValidationError):
        return any(
            error["type"] == "get_attribute_error"
            and str(error.get("ctx", {}).get("error", "")).split(":", 1)[0]
            in INFRASTRUCTURE_ERROR_NAMES
            for error in exception.errors()
        )
    return False


def body_limit(path: str) -> int:
    """The largest body a request to `path` may have (an upload's path takes more)."""
    return settings.BODY_LIMITS_BY_PATH.get(path, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def _body_too_big(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > body_limit(request.path)


def _too_big(limit: int) -> JsonResponse:
    return JsonResponse({"detail": f"Request body is larger than {limit} bytes."}, status=413)


def _detail(request: HttpRequest, response: HttpResponse) -> tuple[int, str]:
    status = response.status_code
    if status == 404:
        hint = "" if request.path.endswith("/") else " API paths end with a slash."
        return 404, f"Not found.{hint}"
    if status >= 500:
        return status, "Internal server error."
    return status, response.reason_phrase


class JsonErrorsForApi:
    """Refuse a body over the limit (413), and turn Django's HTML error pages (unknown path,
    405, 500) into JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX) and _body_too_big(request):
            # Refused before any view: the answer must not depend on whether the handler
            # reads its body (one that does not would act on a request cut at the limit),
            # nor on what DEBUG makes of Django's RequestDataTooBig.
            return _too_big(body_limit(request.path))
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status, detail = _detail(request, response)
            json_response = JsonResponse({"detail": detail}, status=status)
            if "Allow" in response:
                json_response["Allow"] = response["Allow"]
            return json_response
        return response


def service_unavailable() -> JsonResponse:
    response = JsonResponse(
        {"detail": "The service is briefly unavailable; try again shortly."}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class UnavailableWhileInfrastructureIsDown:
    """The database or Redis not answering is our outage, not the client's fault nor a bug.

    Django closes a connection that raised, so the next request reconnects by itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return outage_answer(request, exception)


def outage_answer(request: HttpRequest, exception: Exception) -> HttpResponse | None:
    """503 with Retry-After when `exception` is an outage (a database or Redis that does not
    answer, an SQLite write lock not had within its timeout), else None: a bug stays a 500."""
    if not is_outage(exception):
        return None
    # One line, no traceback: the cause is known, and its text names no secret.
    logger.warning(
        "503 for %s %s: %s: %s",
        request.method,
        request.path,
        type(exception).__name__,
        str(exception).splitlines()[0] if str(exception) else "",
    )
    return service_unavailable()
