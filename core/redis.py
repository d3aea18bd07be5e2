"""One shared Redis client per URL for throttling, readiness and other small key work, and
the one place every Redis name of the app is built (`key`, `key_prefix`).

Every name is `aht:<namespace>:...`: each installation sharing a Redis database keeps to its
own namespace (issue 17), with its cache entries, throttles and presence, its channel layer
(`key_prefix("ws")`, config/channel_layer.py) and its Celery broker (`key_prefix("celery")`,
config/celery.py). The namespace is `REDIS_NAMESPACE`, else derived from the database
(installation/identity.py), once per process. tests/config/test_namespace.py fails on an
`aht` name written anywhere else.
"""

import asyncio
import logging
import time
import weakref
from collections.abc import Sequence
from functools import cache

import redis
import redis.asyncio
from django import db
from django.conf import settings
from django.utils.module_loading import import_string
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

ROOT = "aht"


class NotInstalled(Exception):
    """The database has no identity row yet: `manage.py migrate` has not run on it. Raised by
    the namespace source (installation/identity.py); here so that core can wait on it."""


@cache
def namespace() -> str:
    """This installation's part of every Redis name: `REDIS_NAMESPACE`, else a digest of the
    database's identity, read on first use (the database may be down when a process starts,
    and settings cannot query it). Raises the database's error while it cannot be read: no
    name is ever built under a guess."""
    if settings.REDIS_NAMESPACE:
        found, source = settings.REDIS_NAMESPACE, "REDIS_NAMESPACE"
    else:
        # Named by a setting, not imported: core imports no app (the source reads a model).
        found, source = import_string(settings.REDIS_NAMESPACE_SOURCE)(), "the database"
    logger.info("Redis names under %s:%s: (from %s)", ROOT, found, source)
    return found


def key(*parts: object) -> str:
    """The Redis name of `parts` in this installation: `aht:<namespace>:<part>:<part>...`."""
    return ":".join((ROOT, namespace(), *map(str, parts)))


def key_prefix(*parts: object) -> str:
    """What every name of the family `parts` begins with (`key(*parts)` and a colon)."""
    return key(*parts) + ":"


def cache_key(name: str, prefix: str, version: int) -> str:
    """Django's cache's names (its `KEY_FUNCTION`), in the namespace too."""
    return key(prefix, version, name)


def namespace_waiting(process: str) -> str:
    """The namespace, waiting for the database as long as it takes: for a worker or beat,
    which can do nothing without it and must never use a broker prefix of a guess."""
    delay = 1.0
    while True:
        try:
            return namespace()
        except (db.Error, NotInstalled) as error:
            logger.warning(
                "%s waits for the database to learn its Redis namespace: %s", process, error
            )
            db.connections.close_all()  # a connection the failure broke is made anew
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


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


# An asyncio client's connections belong to the event loop that made them: one client a loop,
# with at most ASYNC_CONNECTIONS to Redis, a command waiting up to ASYNC_WAIT_SECONDS for one.
ASYNC_CONNECTIONS = 32
ASYNC_WAIT_SECONDS = 10
_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis]" = (
    weakref.WeakKeyDictionary()
)


def get_async_redis() -> redis.asyncio.Redis:
    """`get_redis()` for code on an event loop (a live socket's own checks): the same server
    and the same failure rules, without a hop to a thread."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        timeout = settings.REDIS_SOCKET_TIMEOUT
        # Bounded: a burst of 5,000 sockets opening at once waits for a connection rather
        # than opening 5,000 to Redis.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            max_connections=ASYNC_CONNECTIONS,
            timeout=ASYNC_WAIT_SECONDS,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        client = redis.asyncio.Redis(connection_pool=pool, retry=AsyncRetry(NoBackoff(), RETRIES))
        _async_clients[loop] = client
    return client


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
