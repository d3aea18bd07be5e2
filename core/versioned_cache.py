"""One helper for Redis caches that are never stale after a commit (issue 18): the token
state (accounts/token_state.py), `today` (instances/today_cache.py), stats
(instances/stats_cache.py) and `me` (accounts/me_cache.py) are each a `VersionedCache`; the
habit lists' pages (habits/list_cache.py) a `PagedCache`, many entries under one version.

A cache `name` keeps each id's entry under `aht:<namespace>:<name>:<id>` and its version
under `aht:<namespace>:<name>_version:<id>` (core.redis.key names both). The rule it owns:

- A change forgets the entry after its commit (`forget`): the version goes up and the entry
  goes, for any number of ids in one round trip.
- A miss reads the version with the entry (`read`: one MGET), and stores what it then loaded
  from the database only if the version is still that one (`load`/`store`, checked and set
  atomically in Redis). So a read that began before a change is never stored after it.

`near=True` declares that the cache's entries may be answered from each process's memory
while Redis reports no change of them (core/near_cache.py): they are then named under the
near cache's tracking prefix (`aht:<namespace>:near:<name>:<id>`), the only keys Redis
reports on. Which keys are held is decided here, by the caches that declared it, never by a
name alone. A read can carry other caches' keys with it (`also`): the token state reads
`today`'s in its round trip, or with it from memory.

Redis away: a read raises `redis.RedisError` (its caller reads the database), `load`
answers from the database, a store or a forget logs and goes on.
"""

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import ClassVar, Literal, TypeVar

import redis

from core.near_cache import NEAR, mget_near, near_forget
from core.presence import presence_answer, queue_presence
from core.redis import get_redis, key, key_prefix, namespace

logger = logging.getLogger(__name__)

T = TypeVar("T")
Raw = bytes | str  # an entry as stored
# Values read by key. From memory, only the held keys are in it (the others were not read).
Found = dict[str, bytes | None]
# Keys a request read with another cache's (JWTAuth's prefetch): their values, or False when
# Redis did not answer (so the view does not wait on it again).
Prefetched = Found | Literal[False]

# Longer than any read between a miss and its store, so a version is never lost under one.
VERSION_TTL_SECONDS = 24 * 3600
# Ids one script call handles at most: Redis runs nothing else meanwhile.
BATCH = 1_000

# A loop in Redis, not a pipeline: three commands an id cost redis-py about 40 µs of Python
# each (a sweep of 1,000 owners: 45 ms); the loop costs microseconds.
# A version is counted from Redis's clock in microseconds when INCR creates it, and gets its
# ttl then, once: EXPIRE was the loop's dearest call (about 40 % of Redis's time in a sweep's
# forgets). A version in use may so lapse a day after it was created (or sooner, evicted);
# it starts again from the clock of that moment, past any number it counted before unless
# it changed more times than microseconds went by, so a store begun before a lapse is still
# refused and a page of an older version stays a miss. (Counted from 1 as before, a version
# changed once and then lapsed came back as 1.) The numbers stay below 2^53, exact in Lua's
# doubles, until the year 2255. A script's step for KEYS[i] (ARGV[1]: the versions' ttl;
# `clock`, nil at the script's start: its TIME, read once). One SET of the clock's value
# with its ttl, not INCRBY and EXPIRE: a batch of habits new to Redis (a sweep's stats)
# creates thousands of versions, 17.5 -> 13.3 ms per 5,000.
_BUMP_VERSION = """
    versions[i] = redis.call('INCR', KEYS[i])
    if versions[i] == 1 then
        if not clock then
            local now = redis.call('TIME')
            clock = now[1] * 1000000 + now[2]
        end
        versions[i] = clock + 1
        redis.call('SET', KEYS[i], versions[i], 'EX', ARGV[1])
    end
"""
# KEYS: the versions, then the entries, in the same order. ARGV: the versions' ttl.
# Returns the new versions, for a refresh to store under (`stats_forget`, then
# `stats_recompute` on a worker).
FORGET = f"""
local n = #KEYS / 2
local versions, clock = {{}}, nil
for i = 1, n do
{_BUMP_VERSION}
    redis.call('DEL', KEYS[n + i])
end
return versions
"""
# Each entry stored only if its version key still holds the value the writer saw before
# reading the database (a change bumps it after its commit).
# KEYS: the entries, then their versions. ARGV: the ttl, the values, the versions seen.
STORE_IF_VERSION = """
local n = #KEYS / 2
local stored = {}
for i = 1, n do
    stored[i] = 0
    if (redis.call('GET', KEYS[n + i]) or '') == ARGV[1 + n + i] then
        redis.call('SET', KEYS[i], ARGV[1 + i], 'EX', ARGV[1])
        stored[i] = 1
    end
end
return stored
"""


def _batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


class VersionedCache:
    """Entries by id, never stored from a read that began before a change; see the module."""

    # The caches that declared `near`: whose keys a read may answer from memory.
    _near: ClassVar[list["VersionedCache"]] = []

    def __init__(self, name: str, ttl: int, *, near: bool = False) -> None:
        self.name = name
        # Seconds an entry lives: the bound for a change made behind the services' back.
        self.ttl = ttl
        self.near = near
        if near:
            VersionedCache._near.append(self)

    def __repr__(self) -> str:
        return f"<VersionedCache {self.name}{' near' if self.near else ''}>"

    def entry_key(self, id: int) -> str:
        return key(NEAR, self.name, id) if self.near else key(self.name, id)

    def version_key(self, id: int) -> str:
        return key(f"{self.name}_version", id)

    # The same names for many ids, the prefix built once: a sweep batch forgets thousands of
    # owners' entries, and `key` a name cost about 1.5 µs of its time.
    def _entry_prefix(self) -> str:
        return key_prefix(NEAR, self.name) if self.near else key_prefix(self.name)

    def _version_prefix(self) -> str:
        return key_prefix(f"{self.name}_version")

    def entry_keys(self, ids: Sequence[int]) -> list[str]:
        prefix = self._entry_prefix()
        return [f"{prefix}{id}" for id in ids]

    def version_keys(self, ids: Sequence[int]) -> list[str]:
        prefix = self._version_prefix()
        return [f"{prefix}{id}" for id in ids]

    def keys(self, id: int) -> tuple[str, str]:
        """The entry and its version: what `read` reads, for another cache to read them with
        its own (`read(..., also=)`, JWTAuth's prefetch)."""
        return self.entry_key(id), self.version_key(id)

    def holds(self, name: str) -> bool:
        """`name` is one of this cache's entries, which memory may hold."""
        return self.near and name.startswith(key_prefix(NEAR, self.name))

    @classmethod
    def _held(cls, names: Sequence[str]) -> list[str]:
        """Those of `names` that a cache declared `near` holds."""
        prefixes = _near_prefixes(namespace(), len(cls._near))
        return [name for name in names if name.startswith(prefixes)]

    def read(self, id: int, also: Sequence[str] = ()) -> Found:
        """The entry, its version and `also` in one round trip, or from memory when every
        held key among them is held (then only those are in the answer). Raises RedisError."""
        names = [*self.keys(id), *also]
        return mget_near(get_redis(), names, self._held(names))

    def load(
        self, id: int, found: Found, load: Callable[[], T | None], encode: Callable[[T], Raw]
    ) -> T | None:
        """A miss in `found` (a `read`): `load` from the database, stored if no change came
        in between. The version is taken before `load` runs: `found`'s, else (a miss from
        memory, which did not read it) Redis's."""
        version = self.version_key(id)
        try:
            seen = found[version] if version in found else get_redis().get(version)
        except redis.RedisError:
            return load()
        value = load()
        if value is not None:
            self.store({id: encode(value)}, {id: seen})
        return value

    def get(
        self,
        id: int,
        load: Callable[[], T | None],
        encode: Callable[[T], Raw],
        decode: Callable[[bytes], T | None],
        found: Found | None = None,
    ) -> T | None:
        """The entry decoded (`decode` may call it a miss: None), else `load`ed and stored;
        from the database alone while Redis is away. `found`: this id's keys already read."""
        try:
            found = self.read(id) if found is None else found
        except redis.RedisError:
            return load()
        raw = found.get(self.entry_key(id))
        value = None if raw is None else decode(raw)
        return value if value is not None else self.load(id, found, load, encode)

    def store(self, values: Mapping[int, Raw], seen: Mapping[int, object]) -> set[int] | None:
        """Store `values` by id, each only if its version is still the one in `seen`. Returns
        the ids stored (the others changed meanwhile: their values are old), or None when
        Redis did not answer (nothing is known)."""
        ids = list(values)
        stored: set[int] = set()
        try:
            client = get_redis()
            for batch in _batches(ids):
                names = [self.entry_key(i) for i in batch] + [self.version_key(i) for i in batch]
                versions = [seen[i] or b"" for i in batch]
                args = [self.ttl, *(values[i] for i in batch), *versions]
                flags = client.eval(STORE_IF_VERSION, len(names), *names, *args)
                stored.update(i for i, flag in zip(batch, flags, strict=True) if flag)
        except redis.RedisError:
            logger.warning("%s of %d id(s) not cached: Redis does not answer", self.name, len(ids))
            return None
        return stored

    def forget(self, ids: Iterable[int]) -> dict[int, int]:
        """Drop the entries of `ids` and bump their versions (the next read goes to the
        database). Returns the new versions by id (none when Redis did not answer)."""
        [versions], _online = forget_together([(self, ids)])
        return versions

    def _queue_forget(self, pipe: "redis.client.Pipeline", ids: Sequence[int]) -> int:
        """Queue the forget of `ids` on `pipe`; returns how many commands it queued."""
        batches = list(_batches(ids))
        for batch in batches:
            names = self._forgotten(batch)
            pipe.eval(self._forget_script, len(names), *names, VERSION_TTL_SECONDS)
        return len(batches)

    # What `forget` runs on which names: the versions bumped and the entries deleted, and the
    # entries memory may hold (a paged cache: its versions alone, below).
    _forget_script = FORGET

    def _forgotten(self, ids: Sequence[int]) -> list[str]:
        return self.version_keys(ids) + self.entry_keys(ids)

    def _held_names(self, ids: Sequence[int]) -> list[str]:
        return self.entry_keys(ids)


@cache
def _near_prefixes(_namespace: str, _caches: int) -> tuple[str, ...]:
    """The names' prefixes of the caches that declared `near`. Every authenticated request
    asks (building them cost about 4 µs of one); they change only with the namespace or a
    new cache, the two arguments they are kept by."""
    return tuple(key_prefix(NEAR, near.name) for near in VersionedCache._near)


def forget_together(
    forgets: Sequence[tuple[VersionedCache, Iterable[int]]], *, online_among: Iterable[int] = ()
) -> tuple[list[dict[int, int]], set[int]]:
    """`forget` for several caches, and the presence of `online_among` (core/presence.py),
    in one round trip to Redis: what a change's commit costs is mostly round trips (a
    completion forgets three caches and reads its owner's presence, four, now one).

    Returns each cache's new versions by id, in the order given (none when Redis did not
    answer), and those of `online_among` with a socket open (all of them when Redis did not
    answer: a frame too many, never one lost)."""
    work = [(cache, sorted(set(ids))) for cache, ids in forgets]
    users = sorted(set(online_among))
    versions: list[dict[int, int]] = [{} for _ in work]
    online = set(users)
    try:
        pipe = get_redis().pipeline(transaction=False)
        queued = [cache._queue_forget(pipe, ids) for cache, ids in work]
        if users:
            queue_presence(pipe, users)
        answers = iter(pipe.execute())
        for found, (_cache, ids), count in zip(versions, work, queued, strict=True):
            bumped = [version for _ in range(count) for version in next(answers)]
            found.update(zip(ids, bumped, strict=True))
        if users:
            online = presence_answer(users, next(answers))
    except redis.RedisError:
        for cache, ids in work:  # an entry may outlive the change by up to `ttl`: said loudly
            logger.error(
                "%s of %d id(s) not forgotten: Redis does not answer", cache.name, len(ids)
            )
    finally:
        for cache, ids in work:  # this process drops them at once; Redis tells the others
            if cache.near:
                near_forget(cache._held_names(ids))
    return versions, online


# A paged cache's forget: only the versions go up (its pages are not known one by one; each
# carries the version it was read under, and one of an older version is a miss).
# KEYS: the versions. ARGV: their ttl.
BUMP = f"""
local versions, clock = {{}}, nil
for i = 1, #KEYS do
{_BUMP_VERSION}
end
return versions
"""
# A page stored only if its version is still the one seen before reading the database ('0'
# for none); a version absent is then written as '0', so memory can hold it with the page.
# KEYS: the page, its version. ARGV: the ttl, the value, the version seen, the version's ttl.
STORE_PAGE = """
local current = redis.call('GET', KEYS[2])
if (current or '0') ~= ARGV[3] then
    return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[1])
if not current then
    redis.call('SET', KEYS[2], '0', 'EX', ARGV[4], 'NX')
end
return 1
"""
NO_VERSION = b"0"
PAGE_SEPARATOR = b"|"


class PagedCache(VersionedCache):
    """Many entries an id (the pages of a list, one per set of query parameters) under one
    version, all answered from memory (always `near`).

    The pages are not known one by one, so a change cannot delete them: `forget` bumps the id's
    version alone, and each page is stored as `<version>|<value>`, the version it was read
    under. A read takes the page and the version together (one MGET, or memory, where both are
    held: the version is named under the near prefix too, so its bump is reported to every
    process like a deleted entry is); a page of another version is a miss. The store is
    checked against the version like `VersionedCache.store`, so a read that began before a
    change is never stored after it either.

    Names: the version `aht:<namespace>:near:<name>:<id>`, a page `...:<name>:<id>:<page>`.
    """

    def __init__(self, name: str, ttl: int) -> None:
        super().__init__(name, ttl, near=True)

    def page_key(self, id: int, page: str) -> str:
        return key(NEAR, self.name, id, page)

    def version_key(self, id: int) -> str:
        return key(NEAR, self.name, id)

    def _version_prefix(self) -> str:
        return key_prefix(NEAR, self.name)

    def page_keys(self, id: int, page: str) -> tuple[str, str]:
        """The page and its version: what `get_page` reads (JWTAuth can read them for it)."""
        return self.page_key(id, page), self.version_key(id)

    def get_page(
        self, id: int, page: str, load: Callable[[], bytes], found: Prefetched | None = None
    ) -> bytes:
        """The page's value, else `load`ed and stored under the version read before it; from
        the database alone while Redis is away. `found`: the page's keys already read (False:
        Redis did not answer them)."""
        names = self.page_keys(id, page)
        if found is False:
            return load()
        if found is None or names[0] not in found:
            try:
                found = mget_near(get_redis(), names, names)
            except redis.RedisError:
                return load()
        seen = (found.get(names[1]) or NO_VERSION) + PAGE_SEPARATOR
        raw = found.get(names[0])
        if raw is not None and raw.startswith(seen):
            return raw[len(seen) :]
        value = load()
        try:
            get_redis().eval(
                STORE_PAGE, 2, *names, self.ttl, seen + value, seen[:-1], VERSION_TTL_SECONDS
            )
        except redis.RedisError:
            logger.warning("%s page not cached: Redis does not answer", self.name)
        return value

    # Every page of an id is old once its version goes up (its pages are not known one by one).
    _forget_script = BUMP

    def _forgotten(self, ids: Sequence[int]) -> list[str]:
        return self.version_keys(ids)

    def _held_names(self, ids: Sequence[int]) -> list[str]:
        return self.version_keys(ids)
