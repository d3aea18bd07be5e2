"""Stats cached in Redis under `aht:<namespace>:habit_stats:<habit_id>`, never stale after a
commit: the versioned cache `STATS` (core/versioned_cache.py), not held in memory.

Invalidation bumps `...:habit_stats_version:<id>` and deletes the entry. Whoever computes stats
(a reader on a miss, or the refresh after a commit) stores them only if the version is the
one it saw before computing, checked and set atomically in Redis. So a computation that
began before a change can never put old numbers back after it. Redis away: computed from
the DB every time, and the request still answers.
"""

import json
from collections.abc import Iterable

from core.versioned_cache import VersionedCache
from habits.stats import habit_stats, habit_stats_many

TTL_SECONDS = 24 * 3600
STATS = VersionedCache("habit_stats", TTL_SECONDS)


def stats_key(habit_id: int) -> str:
    return STATS.entry_key(habit_id)


def habit_stats_cached(habit_id: int) -> dict:
    return STATS.get(habit_id, lambda: habit_stats(habit_id), json.dumps, json.loads)


def stats_refresh(*, invalidate: Iterable[int], recompute: Iterable[int]) -> dict[int, dict]:
    """After a commit: drop the cached stats of `invalidate`, compute and cache `recompute`.

    Returns the fresh stats of `recompute` (for the `stats.updated` frames).
    """
    ids = set(invalidate)
    if not ids:
        return {}
    versions = STATS.forget(ids)  # the fresh numbers are stored under these, if still current
    fresh = habit_stats_many(recompute)
    STATS.store({h: json.dumps(s) for h, s in fresh.items() if h in versions}, versions)
    return fresh
