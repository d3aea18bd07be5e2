"""Which users have a socket open, so bulk work can skip telling nobody, and how many, so a
user's sockets are capped across every web worker.

Each open socket holds a lease in a sorted set per user (its channel name, scored by when
the lease ends on Redis's clock), renewed by the socket every WS_LAYER_CHECK_SECONDS. A
socket whose worker died stops renewing and frees its place within the lease, so a killed
worker never locks its users out. A hash counts the live leases per user, rewritten at each
change, so bulk work asks about many users in one HMGET; a count left by a dead worker only
costs a few unneeded sends until that user's next socket, and it never hides an event from
a socket, because an event is only skipped for users with no count at all.
"""

import logging
from collections.abc import Iterable, Sequence

import redis
from django.conf import settings

from core.redis import get_async_redis, get_redis, key

logger = logging.getLogger(__name__)


def presence_key() -> str:
    """The hash of open sockets per user (a function: the namespace is known at first use)."""
    return key("online")


def online_among(user_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    try:
        counts = get_redis().hmget(presence_key(), [str(i) for i in ids])
    except redis.RedisError:
        logger.warning("presence unknown: Redis does not answer; assuming everyone is online")
        return set(ids)
    return presence_answer(ids, counts)


def queue_presence(pipe: "redis.client.Pipeline", user_ids: Sequence[int]) -> None:
    """`online_among` queued on a pipeline of other work (one round trip for both); its
    answer is then read by `presence_answer`."""
    pipe.hmget(presence_key(), [str(i) for i in user_ids])


def presence_answer(user_ids: Sequence[int], counts: Sequence[bytes | None]) -> set[int]:
    """Those of `user_ids` whose count (HMGET's answer, in their order) says a socket is open."""
    pairs = zip(user_ids, counts, strict=True)
    return {user_id for user_id, count in pairs if count and int(count) > 0}


# KEYS: the count hash, the user's leases. ARGV: user id, socket, lease in ms (0: release),
# cap (0: none). Drops lapsed leases, then takes, renews or releases this one, and writes the
# count; -1 when the user already holds `cap` other leases. One script: two workers' sockets
# opening at once cannot both take the last place.
LEASE = """
local now = redis.call('TIME')
now = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local lease, cap = tonumber(ARGV[3]), tonumber(ARGV[4])
if lease == 0 then
    redis.call('ZREM', KEYS[2], ARGV[2])
elseif cap > 0 and redis.call('ZCARD', KEYS[2]) >= cap
        and not redis.call('ZSCORE', KEYS[2], ARGV[2]) then
    return -1
else
    redis.call('ZADD', KEYS[2], now + lease, ARGV[2])
    redis.call('PEXPIRE', KEYS[2], lease)
end
local count = redis.call('ZCARD', KEYS[2])
if count > 0 then
    redis.call('HSET', KEYS[1], ARGV[1], count)
else
    redis.call('HDEL', KEYS[1], ARGV[1])
end
return count
"""


def lease_seconds() -> float:
    """Three missed renewals: a live socket never loses its place to a slow check."""
    return 3 * settings.WS_LAYER_CHECK_SECONDS


def _lease(user_id: int, socket: str, lease: float, cap: int = 0) -> int:
    keys = (presence_key(), key("sockets", user_id))
    return int(get_redis().eval(LEASE, len(keys), *keys, user_id, socket, int(lease * 1000), cap))


def socket_opened(user_id: int, socket: str, *, cap: int = 0) -> bool:
    """Count `socket` (a channel name) among the user's; False, and not counted, when the user
    already has `cap` sockets open (0: no cap)."""
    return _lease(user_id, socket, lease_seconds(), cap) >= 0


def socket_alive(user_id: int, socket: str) -> None:
    """Renew the socket's lease (each WS_LAYER_CHECK_SECONDS while it is open)."""
    _lease(user_id, socket, lease_seconds())


def socket_closed(user_id: int, socket: str) -> None:
    _lease(user_id, socket, 0)


# The same for live sockets, on their event loop, and renewed many at a time: a process renews
# all its sockets' leases together each period (realtime/heartbeat.py), 10,000 sockets are a
# few calls, not 2,000 a second (docs/PERFORMANCE.md, "10,000 sockets, round two").

# KEYS: the count hash, then each socket's user's leases. ARGV: the lease in ms, then each
# socket's user id and name. LEASE's renewal, for every socket in one call.
RENEW_MANY = """
local now = redis.call('TIME')
now = now[1] * 1000 + math.floor(now[2] / 1000)
local lease = tonumber(ARGV[1])
for i = 2, #KEYS do
    local user, socket = ARGV[2 * i - 2], ARGV[2 * i - 1]
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    redis.call('ZADD', KEYS[i], now + lease, socket)
    redis.call('PEXPIRE', KEYS[i], lease)
    redis.call('HSET', KEYS[1], user, redis.call('ZCARD', KEYS[i]))
end
return #KEYS - 1
"""
# Sockets one RENEW_MANY call renews at most: Redis runs nothing else meanwhile.
RENEW_BATCH = 500


async def _alease(user_id: int, socket: str, lease: float, cap: int = 0) -> int:
    keys = (presence_key(), key("sockets", user_id))
    args = (user_id, socket, int(lease * 1000), cap)
    return int(await get_async_redis().eval(LEASE, len(keys), *keys, *args))


async def asocket_opened(user_id: int, socket: str, *, cap: int = 0) -> bool:
    return await _alease(user_id, socket, lease_seconds(), cap) >= 0


async def asockets_alive(leases: Sequence[tuple[int, str]]) -> None:
    """Renew the leases of these sockets (user id, channel name), in one round trip."""
    if not leases:
        return
    pipe = get_async_redis().pipeline(transaction=False)
    lease = int(lease_seconds() * 1000)
    for start in range(0, len(leases), RENEW_BATCH):
        batch = leases[start : start + RENEW_BATCH]
        keys = [presence_key(), *(key("sockets", user_id) for user_id, _ in batch)]
        args = [lease, *(part for pair in batch for part in pair)]
        pipe.eval(RENEW_MANY, len(keys), *keys, *args)
    await pipe.execute()


async def asocket_closed(user_id: int, socket: str) -> None:
    await _alease(user_id, socket, 0)
