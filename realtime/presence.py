"""Which users have a socket open, so bulk work can skip telling nobody.

A Redis hash counts open sockets per user (the consumer adds and removes itself). A stale
count after a crash only costs a few unneeded sends; it never hides an event from a socket,
because an event is only skipped for users with no count at all.
"""

import logging
from collections.abc import Iterable

import redis

from config.redis import get_redis

logger = logging.getLogger(__name__)

KEY = "aht:online"


def online_among(user_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    try:
        counts = get_redis().hmget(KEY, [str(i) for i in ids])
    except redis.RedisError:
        logger.warning("presence unknown: Redis does not answer; assuming everyone is online")
        return set(ids)
    return {user_id for user_id, count in zip(ids, counts, strict=True) if count and int(count) > 0}


def socket_opened(user_id: int) -> None:
    get_redis().hincrby(KEY, str(user_id), 1)


def socket_closed(user_id: int) -> None:
    client = get_redis()
    if client.hincrby(KEY, str(user_id), -1) <= 0:
        client.hdel(KEY, str(user_id))
