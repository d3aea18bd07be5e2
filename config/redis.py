"""One shared Redis client per URL for throttling, readiness and other small key work."""

from collections.abc import Sequence
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


def _mget_once(pool: redis.ConnectionPool, keys: Sequence[str]) -> list[bytes | None]:
    connection = pool.get_connection()
    try:
        connection.send_command("MGET", *keys)
        return connection.read_response()
    except BaseException:
        connection.disconnect()  # dropped, or a reply half read that would answer the next call
        raise
    finally:
        pool.release(connection)


def mget(client: redis.Redis, keys: Sequence[str]) -> list[bytes | None]:
    """`client.mget(*keys)` for the once-a-request read (the token state, with a view's own
    keys): the command straight on a pooled connection, without the client's per-command
    machinery (its retry object, timing and observability hooks), which cost about a quarter
    of the call, 25-35 µs a request here (docs/PERFORMANCE.md). Same failure rules: a
    dropped connection is tried again RETRIES times at once, then the error is raised."""
    for _ in range(RETRIES):
        try:
            return _mget_once(client.connection_pool, keys)
        except (redis.ConnectionError, redis.TimeoutError):
            pass  # e.g. a connection Redis closed while idle: once more, on a new one
    return _mget_once(client.connection_pool, keys)


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
