"""Fixed-window counters in Redis: the one throttle primitive every app uses.

A window starts at a counter's first hit and lasts its `window` seconds; within it at most
`limit` hits are let through. `take()` checks and counts in one Lua script, so a burst of
parallel requests cannot all slip through between a check and an increment, and several
counters (per address, per e-mail, ...) are taken together or not at all: a request refused
by one limit is not counted against the others, so a refused caller cannot run up a counter
that would lock somebody else out.

If Redis does not answer, every counter lets the request through and a warning is logged:
refusing every login, registration or bind because a cache is down would be the worse failure.
"""

import logging
from dataclasses import dataclass

import redis

from core.redis import get_redis, key

logger = logging.getLogger(__name__)


def counter_key(*parts: str) -> str:
    """Every counter's Redis key is built here, in this installation's namespace
    (`aht:<namespace>:...`, core.redis.key)."""
    return key(*parts)


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window: int  # seconds, from the counter's first hit


# KEYS: the counters. ARGV: each counter's limit and window, in KEYS' order.
# Returns 0 when every counter had room and each took one hit; otherwise, touching nothing,
# the seconds until the last of the full counters' windows ends (at least 1).
_TAKE = """
local wait = 0
for i, key in ipairs(KEYS) do
    local count = tonumber(redis.call('GET', key) or '0')
    if count >= tonumber(ARGV[2 * i - 1]) then
        local ttl = redis.call('TTL', key)
        if ttl < 0 then
            ttl = tonumber(ARGV[2 * i])
            redis.call('EXPIRE', key, ttl)
        end
        wait = math.max(wait, ttl, 1)
    end
end
if wait > 0 then
    return wait
end
for i, key in ipairs(KEYS) do
    redis.call('INCR', key)
    if redis.call('TTL', key) < 0 then
        redis.call('EXPIRE', key, ARGV[2 * i])
    end
end
return 0
"""

# KEYS: counters to give one hit back. A counter whose window ended meanwhile is left alone
# (a bare DECR would make a key without expiry).
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
    if tonumber(redis.call('GET', key) or '0') > 0 then
        redis.call('DECR', key)
    end
end
return 0
"""


def take(*limits: Limit, what: str) -> int:
    """0 if every counter had room and took one hit; else the seconds to wait (none counted).

    `what` names the throttle in the warning logged when Redis does not answer.
    """
    args = [value for lim in limits for value in (lim.limit, lim.window)]
    try:
        wait = get_redis().eval(_TAKE, len(limits), *(lim.key for lim in limits), *args)
    except redis.RedisError:
        logger.warning("%s unavailable: Redis does not answer", what)
        return 0
    return int(wait)


def give_back(*keys: str, what: str) -> None:
    """One hit back to each counter (an attempt that turned out to be no guess)."""
    try:
        get_redis().eval(_GIVE_BACK, len(keys), *keys)
    except redis.RedisError:
        logger.warning("%s unavailable: Redis does not answer", what)


def clear(*keys: str, what: str) -> None:
    """Start these counters afresh."""
    try:
        get_redis().delete(*keys)
    except redis.RedisError:
        logger.warning("%s unavailable: Redis does not answer", what)
