"""Stats cached in Redis under `aht:<namespace>:habit_stats:<habit_id>`, never stale after a
commit.

Invalidation bumps `...:habit_stats_version:<id>` and deletes the entry. Whoever computes stats
(a reader on a miss, or the refresh after a commit) stores them only if the version is the
one it saw before computing, checked and set atomically in Redis. So a computation that
began before a change can never put old numbers back after it. Redis away: computed from
the DB every time, and the request still answers.
"""

import json
import logging
from collections.abc import Iterable

import redis

from config.redis import STORE_IF_VERSION, get_redis, key
from habits.stats import habit_stats, habit_stats_many

logger = logging.getLogger(__name__)

TTL_SECONDS = 24 * 3600


def stats_key(habit_id: int) -> str:
    return key("habit_stats", habit_id)


def _version_key(habit_id: int) -> str:
    return key("habit_stats_version", habit_id)


def _store(client: redis.Redis, seen: dict[int, str], stats: dict[int, dict]) -> None:
    script = client.register_script(STORE_IF_VERSION)
    with client.pipeline(transaction=False) as pipe:
        for habit_id, value in stats.items():
            script(
                keys=[stats_key(habit_id), _version_key(habit_id)],
                args=[json.dumps(value), seen[habit_id], TTL_SECONDS],
                client=pipe,
            )
        pipe.execute()


def habit_stats_cached(habit_id: int) -> dict:
    try:
        client = get_redis()
        cached, version = client.mget(stats_key(habit_id), _version_key(habit_id))
    except redis.RedisError:
        logger.warning("stats cache unavailable: computing habit %s from the database", habit_id)
        return habit_stats(habit_id)
    if cached is not None:
        return json.loads(cached)
    stats = habit_stats(habit_id)
    try:
        _store(client, {habit_id: (version or b"").decode()}, {habit_id: stats})
    except redis.RedisError:
        logger.warning("stats cache unavailable: not storing habit %s", habit_id)
    return stats


def _bump_versions(client: redis.Redis, ids: list[int]) -> dict[int, str]:
    with client.pipeline(transaction=False) as pipe:
        for habit_id in ids:
            pipe.incr(_version_key(habit_id))
            pipe.expire(_version_key(habit_id), TTL_SECONDS)
        pipe.delete(*[stats_key(h) for h in ids])
        replies = pipe.execute()
    return {habit_id: str(replies[2 * n]) for n, habit_id in enumerate(ids)}


def stats_refresh(*, invalidate: Iterable[int], recompute: Iterable[int]) -> dict[int, dict]:
    """After a commit: drop the cached stats of `invalidate`, compute and cache `recompute`.

    Returns the fresh stats of `recompute` (for the `stats.updated` frames).
    """
    ids = sorted(set(invalidate))
    if not ids:
        return {}
    try:
        client = get_redis()
        versions = _bump_versions(client, ids)
    except redis.RedisError:
        logger.warning("stats cache unavailable: could not invalidate %d habit(s)", len(ids))
        client, versions = None, {}
    fresh = habit_stats_many(recompute)
    if client is not None and versions:
        try:
            _store(client, versions, {h: s for h, s in fresh.items() if h in versions})
        except redis.RedisError:
            logger.warning("stats cache unavailable: not storing %d habit(s)", len(fresh))
    return fresh
