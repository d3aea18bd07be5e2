"""core/near_cache.py: values held in memory only while Redis can report their changes."""

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from core import near_cache
from core import redis as core_redis
from core.near_cache import NearCache
from core.redis import get_redis
from tests.system.harness import PrivateRedis, wait_until

KEY = f"{near_cache.near_prefix()}test:1"
OTHER = f"{near_cache.near_prefix()}test:2"
PLAIN = core_redis.key("plain")  # a key outside the near cache's prefix


def held_after_a_read(near: NearCache, client: redis.Redis, *keys: str) -> list[bytes] | None:
    """What a request does (core.near_cache.mget_near): ask memory first, and on a miss
    read Redis under a placeholder and keep what it found."""
    if near.values(keys) is not None:
        return near.values(keys)
    with near.reading(keys) as ticket:
        found = dict(zip(keys, client.mget(*keys), strict=True))
        near.keep(ticket, {key: value for key, value in found.items() if value is not None})
    return near.values(keys)


def connected(url: str) -> NearCache:
    """Another process's near cache, connected (by a first look, as a request's)."""
    cache = NearCache(url, timeout=2)
    assert cache.values([KEY]) is None
    assert cache.link is not None
    return cache


@pytest.fixture
def near() -> Iterator[NearCache]:
    cache = connected(settings.REDIS_URL)
    yield cache
    cache.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.process is not None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


def test_values_read_once_are_then_answered_from_memory(near):
    get_redis().mset({KEY: b"one", OTHER: b"two"})

    assert held_after_a_read(near, get_redis(), KEY, OTHER) == [b"one", b"two"]
    get_redis().delete("unrelated")  # a change of another key leaves them alone
    assert near.values([KEY]) == [b"one"]


def test_nothing_is_answered_unless_every_key_asked_for_is_held(near):
    get_redis().set(KEY, b"one")
    held_after_a_read(near, get_redis(), KEY, OTHER)  # OTHER is missing in Redis

    assert near.values([KEY]) == [b"one"]
    assert near.values([KEY, OTHER]) is None


def test_a_change_by_any_client_drops_the_value_at_the_next_read(near):
    get_redis().set(KEY, b"old")
    held_after_a_read(near, get_redis(), KEY)

    redis.Redis.from_url(settings.REDIS_URL).set(KEY, b"new")  # another process's write

    assert near.values([KEY]) is None
    assert held_after_a_read(near, get_redis(), KEY) == [b"new"]


@pytest.mark.parametrize("change", ["delete", "expire"])
def test_deleted_and_expired_keys_are_dropped(near, change):
    client = get_redis()
    client.set(KEY, b"old")
    held_after_a_read(near, client, KEY)

    if change == "delete":
        client.delete(KEY)
    else:
        client.pexpire(KEY, 50)
        wait_until(lambda: not client.exists(KEY), 2, "the key expired")

    assert near.values([KEY]) is None


def test_a_flushed_database_drops_everything(private_redis):
    # On a Redis of its own: a flush reports to every tracking client of the server, and a
    # test run beside this one must not see its entries dropped by it.
    near = connected(private_redis.url)
    client = private_redis.client()
    client.set(KEY, b"old")
    held_after_a_read(near, client, KEY)

    client.flushdb()

    # Redis reports a flush as one "everything" invalidation, sent once the flush is done: it
    # may come a moment after the command's answer (under load it did, once), not later.
    wait_until(lambda: near.values([KEY]) is None, 2, "the flush reported")


def test_a_value_read_while_its_key_changed_is_not_kept(near):
    client = get_redis()
    client.set(KEY, b"old")
    with near.reading([KEY]) as ticket:
        [read] = client.mget(KEY)
        client.set(KEY, b"new")  # lands after the read, before the value is kept
        near.keep(ticket, {KEY: read})

    assert near.values([KEY]) is None
    assert held_after_a_read(near, client, KEY) == [b"new"]


def test_this_process_forgets_its_own_change_without_waiting_for_the_report(near):
    get_redis().set(KEY, b"old")
    held_after_a_read(near, get_redis(), KEY)

    near.forget([KEY])

    assert near.values([KEY]) is None


def test_entries_live_at_most_their_lifetime(near, monkeypatch):
    monkeypatch.setattr(near_cache, "SECONDS", 0.1)
    get_redis().set(KEY, b"one")
    held_after_a_read(near, get_redis(), KEY)

    time.sleep(0.2)

    assert near.values([KEY]) is None
    assert get_redis().get(KEY) == b"one"  # only the copy in memory went


def test_the_oldest_entries_go_past_the_limit(near, monkeypatch):
    monkeypatch.setattr(near_cache, "MAX_ENTRIES", 2)
    keys = [f"{near_cache.near_prefix()}test:{n}" for n in range(3)]
    get_redis().mset(dict.fromkeys(keys, b"v"))
    for key in keys:
        held_after_a_read(near, get_redis(), key)

    assert [near.values([key]) is not None for key in keys] == [False, True, True]


def test_after_a_quiet_spell_the_connection_is_proven_again_before_answering(near, monkeypatch):
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 0.2)
    get_redis().set(KEY, b"one")
    held_after_a_read(near, get_redis(), KEY)

    time.sleep(0.3)  # no request, so no PING: nothing proves every report arrived since

    assert near.values([KEY]) is None
    wait_until(lambda: near.values([KEY]) is not None, 2, "answers again once PING is answered")


def test_a_silent_redis_stops_the_answers_from_memory_within_the_liveness(private_redis):
    near = connected(private_redis.url)
    private_redis.client().set(KEY, b"one")
    held_after_a_read(near, private_redis.client(), KEY)

    os.kill(private_redis.process.pid, signal.SIGSTOP)  # connected, but answers nothing
    time.sleep(near_cache.LIVENESS_SECONDS + 0.2)
    silent = near.values([KEY])
    os.kill(private_redis.process.pid, signal.SIGCONT)
    wait_until(lambda: near.values([KEY]) is not None, 5, "answers from memory again")

    assert silent is None


def test_a_connection_redis_closed_drops_everything_and_a_new_one_takes_over(
    private_redis, monkeypatch
):
    monkeypatch.setattr(near_cache, "RECONNECT_SECONDS", 0.1)
    near = connected(private_redis.url)
    private_redis.client().set(KEY, b"one")
    held_after_a_read(near, private_redis.client(), KEY)

    private_redis.restart()  # forgets every key; the old connection is closed
    private_redis.client().set(KEY, b"after")

    assert near.values([KEY]) is None
    time.sleep(0.2)
    assert near.values([KEY]) is None  # connects anew: only later reads are kept
    assert held_after_a_read(near, private_redis.client(), KEY) == [b"after"]


def test_a_connection_silent_past_its_deadline_is_replaced(private_redis, monkeypatch):
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 0.2)
    monkeypatch.setattr(near_cache, "DEAD_SECONDS", 0.5)
    monkeypatch.setattr(near_cache, "RECONNECT_SECONDS", 0.1)
    near = connected(private_redis.url)
    silent = near.link

    os.kill(private_redis.process.pid, signal.SIGSTOP)  # no FIN will ever come
    time.sleep(0.3)
    assert near.values([KEY]) is None  # sends a PING that will not be answered
    time.sleep(0.6)
    assert near.values([KEY]) is None  # the PING is past its deadline: the link is dropped
    os.kill(private_redis.process.pid, signal.SIGCONT)
    wait_until(lambda: near.values([KEY]) is None and near.link, 5, "a new connection")

    assert near.link is not silent


def test_reports_longer_than_one_read_all_arrive(monkeypatch):
    monkeypatch.setattr(near_cache, "READ_BYTES", 64)  # every report split across reads
    near = connected(settings.REDIS_URL)
    keys = [f"{near_cache.near_prefix()}test:{n}" for n in range(200)]
    get_redis().mset(dict.fromkeys(keys, b"v"))
    held_after_a_read(near, get_redis(), *keys)

    get_redis().delete(*keys[::2])

    assert [near.values([key]) is None for key in keys] == [n % 2 == 0 for n in range(200)]
    near.close()


def test_readers_racing_a_writer_never_keep_a_value_older_than_the_last_write(near):
    client = get_redis()
    client.set(KEY, b"0")
    stop = threading.Event()

    def read_until_stopped() -> None:
        while not stop.is_set():
            held_after_a_read(near, client, KEY)

    readers = [threading.Thread(target=read_until_stopped) for _ in range(3)]
    for reader in readers:
        reader.start()
    writer = redis.Redis.from_url(settings.REDIS_URL)  # as another process writes
    for n in range(1, 301):
        writer.set(KEY, str(n).encode())
    stop.set()
    for reader in readers:
        reader.join()

    assert near.values([KEY]) in (None, [b"300"])
    assert held_after_a_read(near, client, KEY) == [b"300"]


def test_without_redis_nothing_is_answered_from_memory():
    near = NearCache("redis://127.0.0.1:1/0", timeout=0.2)

    assert near.values([KEY]) is None


def test_a_forked_child_does_not_use_its_parents_entries(near, monkeypatch):
    get_redis().set(KEY, b"one")
    held_after_a_read(near, get_redis(), KEY)

    monkeypatch.setattr(os, "getpid", lambda: -1)

    assert near.values([KEY]) is None


def test_switched_off_every_read_goes_to_redis(settings):
    settings.NEAR_CACHE = False
    get_redis().set(KEY, b"one")

    assert near_cache.get_near_cache() is None
    found = near_cache.mget_near(get_redis(), [KEY, PLAIN], [KEY])
    assert found == {KEY: b"one", PLAIN: None}
