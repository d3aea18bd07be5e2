"""Stats cached in Redis under `aht:<namespace>:habit_stats:<habit_id>`, never stale after a
commit: the versioned cache `STATS` (core/versioned_cache.py), not held in memory.

Invalidation bumps `...:habit_stats_version:<id>` and deletes the entry. Whoever computes stats
(a reader on a miss, or the worker's refresh after a commit) stores them only if the version is the
one it saw before computing, checked and set atomically in Redis. So a computation that
began before a change can never put old numbers back after it. Redis away: computed from
the DB every time, and the request still answers.
"""

import json
from collections.abc import Iterable

from core.versioned_cache import VersionedCache
from instances.stats import habit_stats, habit_stats_many

TTL_SECONDS = 24 * 3600
STATS = VersionedCache("habit_stats", TTL_SECONDS)


def stats_key(habit_id: int) -> str:
    return STATS.entry_key(habit_id)


def habit_stats_cached(habit_id: int) -> dict:
    return STATS.get(habit_id, lambda: habit_stats(habit_id), json.dumps, json.loads)


def stats_forget(habit_ids: Iterable[int]) -> dict[int, int]:
    """Drop the cached stats of these habits at once (right after the commit, so a reader
    never gets old numbers); returns the new versions, for a later refresh to store under."""
    ids = set(habit_ids)
    return STATS.forget(ids) if ids else {}


def stats_recompute(habit_ids: Iterable[int], versions: dict[int, int]) -> dict[int, dict]:
    """Compute and cache the stats of these habits; stored only under `versions` still current
    (a change after the forget bumps them again, so old numbers never come back)."""
    fresh = habit_stats_many(habit_ids)
    STATS.store({h: json.dumps(s) for h, s in fresh.items() if h in versions}, versions)
    return fresh
