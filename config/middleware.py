"""Answers under /api/ are JSON even when Django itself refuses a request."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"


def _body_too_big(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _detail(request: HttpRequest, response: HttpResponse) -> tuple[int, str]:
    status = response.status_code
    if status == 400 and _body_too_big(request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, f"Request body is larger than {limit} bytes."
    if status == 404:
        hint = "" if request.path.endswith("/") else " API paths end with a slash."
        return 404, f"Not found.{hint}"
    if status >= 500:
        return status, "Internal server error."
    return status, response.reason_phrase


class JsonErrorsForApi:
    """Turn Django's HTML error pages (body too big, unknown path, 405, 500) into JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
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
