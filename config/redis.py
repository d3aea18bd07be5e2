"""One shared Redis client per URL for throttling, readiness and other small key work."""

from functools import cache

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

# One retry, at once: enough for a connection Redis dropped while idle. redis-py's default
# (ten, with backoff) would hold a request, or a transaction's after-commit work, for
# seconds when Redis is away; every caller has a way on without it.
RETRIES = 1


@cache
def _client_for(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), RETRIES),
    )


def get_redis() -> redis.Redis:
    return _client_for(settings.REDIS_URL, settings.REDIS_SOCKET_TIMEOUT)


# Cache entries that must never go stale after a commit (stats, token state) are stored only
# if their version key still holds the value the writer saw before reading the database; a
# change bumps the version after its commit, so a read that began before it is never stored.
# KEYS: entry, version. ARGV: value, version seen before reading, ttl.
STORE_IF_VERSION = """
if (redis.call('GET', KEYS[2]) or '') == ARGV[2] then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
    return 1
end
return 0
"""
