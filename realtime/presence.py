"""Which users have a socket open, so bulk work can skip telling nobody.

A Redis hash counts open sockets per user (the consumer adds and removes itself). A stale
count after a crash only costs a few unneeded sends; it never hides an event, because the
group of a user with no socket is empty anyway.
"""

import logging

import redis

from config.redis import get_redis

logger = logging.getLogger(__name__)

KEY = "aht:online"


def online_user_ids() -> set[int]:
    try:
        counts = get_redis().hgetall(KEY)
    except redis.RedisError:
        logger.warning("presence unknown: Redis does not answer")
        return set()
    return {int(user_id) for user_id, count in counts.items() if int(count) > 0}


def socket_opened(user_id: int) -> None:
    get_redis().hincrby(KEY, str(user_id), 1)


def socket_closed(user_id: int) -> None:
    client = get_redis()
    if client.hincrby(KEY, str(user_id), -1) <= 0:
        client.hdel(KEY, str(user_id))
