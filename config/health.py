"""Liveness and readiness probes for process supervisors and load balancers."""

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from core.redis import get_redis

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving; says nothing about its dependencies."""
    return JsonResponse({"status": "ok"})


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("readiness: database does not answer", exc_info=True)
        return False


def _redis_answers() -> bool:
    try:
        return bool(get_redis().ping())
    except Exception:
        logger.warning("readiness: redis does not answer", exc_info=True)
        return False


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when both the database and Redis answer; 503 names the one that does not."""
    checks = {"database": _database_answers(), "redis": _redis_answers()}
    ready = all(checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return JsonResponse(body, status=200 if ready else 503)
