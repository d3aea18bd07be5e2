"""Stats cached in Redis as the very JSON `GET /api/habits/{id}/stats/` answers, never stale
after a commit: the versioned cache `STATS` (core/versioned_cache.py), declared `near`, under
`aht:<namespace>:near:habit_stats:<habit_id>`, as `<owner's user id>|<json of StatsOut>`.

The owner in the entry is the API's ownership check: a cached answer is sent to its owner
and to nobody else (404, as for a habit that is not theirs), with no query. Read with the
token state (`stats_keys`, JWTAuth's prefetch, takes the habit's id from the path), it costs
the request no Redis round trip from memory, one otherwise.

Invalidation bumps `...:habit_stats_version:<id>` and deletes the entry, after the commit of
whatever changes the numbers (config/reactions.py: the instance events, habit updated or
deleted, an import). Whoever computes stats (a reader on a miss, or the worker's refresh
after a commit) stores them only if the version
is the one it saw before computing, checked and set atomically in Redis. So a computation
that began before a change can never put old numbers back after it. Redis away: computed
from the DB every time, and the request still answers.
"""

import json
from collections.abc import Iterable, Mapping, Sequence

from django.http import HttpRequest

from core.schemas import rendered
from core.types import MAX_ID
from core.versioned_cache import Prefetched, VersionedCache
from habits.models import Habit
from instances.schemas import StatsOut
from instances.stats import habit_stats, habit_stats_many

TTL_SECONDS = 24 * 3600
STATS = VersionedCache("habit_stats", TTL_SECONDS, near=True)
SEPARATOR = b"|"


def stats_key(habit_id: int) -> str:
    return STATS.entry_key(habit_id)


def stats_keys(user_id: int, request: HttpRequest) -> Sequence[str]:
    """JWTAuth's prefetch: the entry of the habit named in the path, and its version."""
    match = request.resolver_match
    raw = match.kwargs.get("habit_id") if match else None
    if not isinstance(raw, str) or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        return ()
    return STATS.keys(int(raw))


def _entry(owner_id: int, stats: dict) -> bytes:
    return str(owner_id).encode() + SEPARATOR + rendered(StatsOut, stats)


def _entry_from_db(habit_id: int) -> bytes | None:
    owner_id = Habit.objects.filter(pk=habit_id).values_list("user_id", flat=True).first()
    return None if owner_id is None else _entry(owner_id, habit_stats(habit_id))


def habit_stats_json(
    habit_id: int, user_id: int, prefetched: Prefetched | None = None
) -> bytes | None:
    """The habit's stats as the API renders them, if it is the user's (else None): cached,
    else computed and stored."""
    if prefetched is False:
        entry = _entry_from_db(habit_id)
    else:
        found = prefetched if prefetched and stats_key(habit_id) in prefetched else None
        entry = STATS.get(habit_id, lambda: _entry_from_db(habit_id), bytes, bytes, found)
    if entry is None:
        return None
    owner, _, body = entry.partition(SEPARATOR)
    return body if owner == str(user_id).encode() else None


def habit_stats_cached(habit_id: int) -> dict | None:
    """The habit's stats (None: no such habit), cached like the API's."""
    entry = STATS.get(habit_id, lambda: _entry_from_db(habit_id), bytes, bytes)
    return None if entry is None else json.loads(entry.partition(SEPARATOR)[2])


def stats_forget(habit_ids: Iterable[int]) -> dict[int, int]:
    """Drop the cached stats of these habits at once (right after the commit, so a reader
    never gets old numbers); returns the new versions, for a later refresh to store under."""
    ids = set(habit_ids)
    return STATS.forget(ids) if ids else {}


def stats_recompute(owners: Mapping[int, int], versions: dict[int, int]) -> dict[int, dict]:
    """Compute and cache the stats of these habits (`{habit_id: owner's user id}`); stored
    only under `versions` still current (a change after the forget bumps them again, so old
    numbers never come back). Returns those stored: a habit changed again meanwhile is left
    out (its numbers may predate that change, and its own refresh sends the new ones: an old
    `stats.updated` must not reach a socket after a newer one). All of them when Redis did
    not answer (nothing is known)."""
    fresh = habit_stats_many(owners)
    entries = {h: _entry(owners[h], s) for h, s in fresh.items() if h in versions}
    stored = STATS.store(entries, versions)
    return fresh if stored is None else {h: s for h, s in fresh.items() if h in stored}
