"""core/versioned_cache.py: the one rule of the token state, `today`, stats and `me` caches,
run over each of them, and of the paged caches of the habit lists (their own behaviour is
in tests/accounts/test_token_state.py, tests/instances/test_today_cache.py,
tests/instances/test_stats.py, tests/accounts/test_me_cache.py and
tests/habits/test_list_cache.py)."""

from time import sleep

import pytest
import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from accounts.me_cache import ME
from accounts.token_state import TOKEN_STATES
from core import near_cache, versioned_cache
from core.near_cache import NEAR, near_prefix
from core.redis import get_redis, key
from core.versioned_cache import PagedCache, VersionedCache
from habits.list_cache import HABIT_PAGES, PUBLIC_PAGES
from instances.stats_cache import STATS
from instances.today_cache import TODAY
from tests.conftest import count_redis_reads

CACHES = [TOKEN_STATES, TODAY, STATS, ME]
NEAR_CACHES = [cache for cache in CACHES if cache.near]
FAR = VersionedCache("test_far", 60)  # not declared near, and of no other business
FAR_CACHES = [cache for cache in CACHES if not cache.near] + [FAR]
ID = 7


def another_process() -> redis.Redis:
    """A client of its own, as another process's: its writes reach this one only as reports."""
    return redis.Redis.from_url(settings.REDIS_URL)


def stored(cache: VersionedCache, id: int, value: bytes) -> None:
    """What a miss does: read, then load and store under the version it read."""
    cache.load(id, cache.read(id), lambda: value, bytes)


def entry(cache: VersionedCache, id: int) -> bytes | None:
    return get_redis().get(cache.entry_key(id))


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers from memory last as long as Redis can report: only a report ends them."""
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 60)


def test_the_caches_are_declared_as_documented():
    assert [(cache.name, cache.near) for cache in CACHES] == [
        ("auth", True),
        ("today", True),
        ("habit_stats", True),
        ("me", True),
    ]
    assert [(cache.name, cache.near) for cache in (HABIT_PAGES, PUBLIC_PAGES)] == [
        ("habits", True),
        ("public", True),
    ]


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_names_are_the_cache_name_and_its_version_in_the_namespace(cache):
    entry_key, version_key = cache.keys(ID)

    under = near_prefix() if cache.near else key() + ":"
    assert entry_key == f"{under}{cache.name}:{ID}"
    assert version_key == key(f"{cache.name}_version", ID)


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_a_miss_is_loaded_stored_and_then_a_hit(cache):
    first = cache.read(ID)
    assert first[cache.entry_key(ID)] is None

    assert cache.load(ID, first, lambda: b"value", bytes) == b"value"

    assert cache.read(ID)[cache.entry_key(ID)] == b"value"
    assert cache.get(ID, lambda: b"other", bytes, bytes) == b"value"


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_a_change_between_the_read_and_the_store_is_not_stored(cache):
    found = cache.read(ID)
    cache.forget([ID])  # a change commits while the miss reads the database

    assert cache.load(ID, found, lambda: b"old", bytes) == b"old"  # this reader may use it...

    assert entry(cache, ID) is None  # ...but it is not kept for the next
    stored(cache, ID, b"new")
    assert entry(cache, ID) == b"new"


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_a_decoder_may_call_an_entry_a_miss(cache):
    stored(cache, ID, b"yesterday|[]")

    value = cache.get(ID, lambda: b"today|[]", bytes, lambda raw: None)

    assert value == b"today|[]"
    assert entry(cache, ID) == b"today|[]"


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_forgetting_many_bumps_every_version_and_drops_every_entry(cache, monkeypatch):
    monkeypatch.setattr(versioned_cache, "BATCH", 2)  # several script calls
    ids = [1, 2, 3, 4, 5]
    for id in ids:
        stored(cache, id, b"value")
    first = cache.forget([1])

    versions = cache.forget([*ids, 3])

    assert set(versions) == set(ids)
    assert versions[1] == first[1] + 1  # counted up from where it was
    assert [get_redis().get(cache.version_key(id)) for id in ids] == [
        str(versions[id]).encode() for id in ids
    ]
    assert [entry(cache, id) for id in ids] == [None] * 5
    assert 0 < get_redis().ttl(cache.version_key(1)) <= versioned_cache.VERSION_TTL_SECONDS


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_a_refresh_stores_under_the_versions_its_forget_returned(cache):
    versions = cache.forget([1, 2])
    cache.forget([2])  # another change after the refresh's forget

    cache.store({1: b"fresh", 2: b"stale"}, versions)

    assert [entry(cache, 1), entry(cache, 2)] == [b"fresh", None]


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_with_redis_away_values_come_from_the_database_and_nothing_fails(cache, monkeypatch):
    # No retries with backoff (redis-py's default): each call fails at once.
    away = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(versioned_cache, "get_redis", lambda: away)

    with pytest.raises(redis.RedisError):
        cache.read(ID)
    assert cache.get(ID, lambda: b"from the database", bytes, bytes) == b"from the database"
    assert cache.forget([ID]) == {}
    cache.store({ID: b"value"}, {ID: None})


@pytest.mark.parametrize("cache", FAR_CACHES, ids=repr)
def test_a_cache_not_declared_near_never_answers_from_memory(cache, heard, monkeypatch):
    stored(cache, ID, b"value")
    reads = count_redis_reads(monkeypatch)

    for _ in range(3):
        assert cache.read(ID)[cache.entry_key(ID)] == b"value"

    assert reads == [3]


@pytest.mark.parametrize("cache", NEAR_CACHES, ids=repr)
def test_a_near_cache_answers_from_memory_until_redis_reports_a_change(cache, heard, monkeypatch):
    stored(cache, ID, b"old")
    cache.read(ID)  # read from Redis and kept
    reads = count_redis_reads(monkeypatch)

    assert cache.read(ID) == {cache.entry_key(ID): b"old"}  # the version was not read
    assert reads == [0]
    another_process().set(cache.entry_key(ID), b"new")

    assert cache.read(ID)[cache.entry_key(ID)] == b"new"
    assert reads == [1]


@pytest.mark.parametrize("cache", NEAR_CACHES, ids=repr)
def test_another_processes_forget_reaches_the_memory_through_redis(cache, heard, monkeypatch):
    stored(cache, ID, b"old")
    cache.read(ID)
    monkeypatch.setattr(versioned_cache, "near_forget", lambda keys: None)  # not this one's

    cache.forget([ID])

    assert cache.read(ID)[cache.entry_key(ID)] is None


def test_a_read_carries_another_caches_keys_and_holds_only_the_near_ones(heard, monkeypatch):
    """The token state's read with `today`'s (JWTAuth's prefetch), and a key of a cache not
    declared near: from memory only when every near entry is held, without the others."""
    for cache in [*CACHES, FAR]:
        stored(cache, ID, cache.name.encode())
    also = [*TODAY.keys(ID), *FAR.keys(ID)]
    assert TOKEN_STATES.read(ID, also)[TODAY.entry_key(ID)] == b"today"  # kept from Redis
    reads = count_redis_reads(monkeypatch)

    found = TOKEN_STATES.read(ID, also)

    assert reads == [0]
    assert found == {TOKEN_STATES.entry_key(ID): b"auth", TODAY.entry_key(ID): b"today"}


def test_a_key_under_the_near_prefix_is_held_only_if_a_near_cache_declared_it():
    stray = key(NEAR, "stray", ID)

    assert stray.startswith(near_prefix())
    assert not any(cache.holds(stray) for cache in CACHES)
    assert [cache.holds(cache.entry_key(ID)) for cache in [*CACHES, FAR]] == [
        True, True, True, True, False,
    ]  # fmt: skip


# --- paged caches: many pages an id, under one version ---------------------------------------

PAGED = PagedCache("test_pages", 60)
PAGE = "20.0.--"


def page_entry(id: int, page: str = PAGE) -> bytes | None:
    return get_redis().get(PAGED.page_key(id, page))


def test_a_page_is_loaded_stored_with_its_version_and_then_a_hit():
    assert PAGED.get_page(ID, PAGE, lambda: b"value") == b"value"

    assert page_entry(ID) == b"0|value"
    assert get_redis().get(PAGED.version_key(ID)) == b"0"  # written, so memory can hold it
    assert PAGED.get_page(ID, PAGE, lambda: b"other") == b"value"


def test_forgetting_an_id_makes_every_one_of_its_pages_a_miss():
    for page in ("20.0.--", "5.10.1-"):
        PAGED.get_page(ID, page, lambda: b"old")
    PAGED.get_page(ID + 1, PAGE, lambda: b"another's")

    version = PAGED.forget([ID])[ID]

    assert [PAGED.get_page(ID, p, lambda: b"new") for p in ("20.0.--", "5.10.1-")] == [b"new"] * 2
    assert page_entry(ID) == f"{version}|new".encode()
    assert PAGED.get_page(ID + 1, PAGE, lambda: b"new") == b"another's"


def test_a_page_read_before_a_change_is_not_stored():
    def change_meanwhile() -> bytes:
        PAGED.forget([ID])  # a change commits while the miss reads the database
        return b"old"

    assert PAGED.get_page(ID, PAGE, change_meanwhile) == b"old"  # this reader may use it...

    assert page_entry(ID) is None  # ...but it is not kept for the next
    assert PAGED.get_page(ID, PAGE, lambda: b"new") == b"new"


def test_pages_are_answered_from_memory_until_another_process_bumps_the_version(heard, monkeypatch):
    PAGED.get_page(ID, PAGE, lambda: b"old")
    PAGED.get_page(ID, PAGE, lambda: b"unused")  # read from Redis and kept
    reads = count_redis_reads(monkeypatch)
    assert PAGED.get_page(ID, PAGE, lambda: b"unused") == b"old"
    assert reads == [0]
    monkeypatch.setattr(versioned_cache, "near_forget", lambda keys: None)  # not this one's

    PAGED.forget([ID])

    assert PAGED.get_page(ID, PAGE, lambda: b"new") == b"new"
    assert reads == [1]


def test_with_redis_away_pages_come_from_the_database_and_nothing_fails(monkeypatch):
    away = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(versioned_cache, "get_redis", lambda: away)

    assert PAGED.get_page(ID, PAGE, lambda: b"from the database") == b"from the database"
    assert PAGED.get_page(ID, PAGE, lambda: b"again", False) == b"again"
    assert PAGED.forget([ID]) == {}


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_a_store_begun_before_its_version_lapsed_is_refused_after_it_starts_again(cache):
    """A version keeps the ttl it got when created (a forget does not renew it): one in use
    may lapse and start again. A read that began before stores nothing after (counted from
    1 again, a version changed once came back equal)."""
    cache.forget([ID])
    seen = get_redis().get(cache.version_key(ID))
    get_redis().delete(cache.version_key(ID))  # lapsed
    sleep(0.001)  # Redis's clock moves on (a version starts from it, in microseconds)
    cache.forget([ID])

    assert cache.store({ID: b"old"}, {ID: seen}) == set()
    assert entry(cache, ID) is None
    assert 0 < get_redis().ttl(cache.version_key(ID)) <= versioned_cache.VERSION_TTL_SECONDS


def test_a_page_of_a_version_that_lapsed_stays_a_miss_after_it_starts_again():
    """A page outlives nothing of its version's: after a lapse the version starts past every
    number it had (counted from 1 again, a version changed once came back equal, and its old
    pages with it)."""
    PAGED.forget([ID])
    PAGED.get_page(ID, PAGE, lambda: b"old")
    get_redis().delete(PAGED.version_key(ID))  # lapsed
    sleep(0.001)  # Redis's clock moves on
    PAGED.forget([ID])

    assert PAGED.get_page(ID, PAGE, lambda: b"new") == b"new"
