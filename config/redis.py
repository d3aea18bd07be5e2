"""One shared Redis client per URL for throttling, readiness and other small key work."""

from functools import cache

import redis
from django.conf import settings


@cache
def _client_for(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def get_redis() -> redis.Redis:
    return _client_for(settings.REDIS_URL, settings.REDIS_SOCKET_TIMEOUT)
