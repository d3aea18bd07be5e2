"""core.redis.mget: the once-a-request read, with the client's own failure rules."""

import pytest
import redis
from django.conf import settings
from redis.connection import Connection

from core.redis import get_redis, mget
from tests.system.harness import unreachable_redis


def test_mget_reads_the_values_in_key_order_and_none_for_missing_keys():
    client = get_redis()
    client.set("a", b"1")
    client.set("c", b"\xff\x00")

    assert mget(client, ["a", "b", "c"]) == [b"1", None, b"\xff\x00"]


def test_a_connection_redis_closed_is_replaced_without_failing_the_read():
    client = get_redis()
    client.set("a", b"1")
    pooled = client.client_id()  # the pool now holds this one idle connection
    _kill(client, pooled)

    assert mget(client, ["a"]) == [b"1"]
    assert client.client_id() != pooled


def test_a_read_that_fails_on_the_wire_is_tried_once_more(monkeypatch):
    client = get_redis()
    client.set("a", b"1")
    send = Connection.send_command
    failures = []

    def drop_first(connection: Connection, *args: object, **kwargs: object) -> None:
        if not failures:
            failures.append(args)
            raise redis.ConnectionError("Connection reset by peer")
        send(connection, *args, **kwargs)

    monkeypatch.setattr(Connection, "send_command", drop_first)

    assert mget(client, ["a"]) == [b"1"]
    assert failures == [("MGET", "a")]


def test_a_read_that_fails_twice_raises_for_the_caller_to_handle(monkeypatch):
    monkeypatch.setattr(Connection, "send_command", _always_drop)

    with pytest.raises(redis.ConnectionError):
        mget(get_redis(), ["a"])


def test_redis_away_raises_a_redis_error():
    away = unreachable_redis()

    with pytest.raises(redis.ConnectionError):
        mget(away, ["a"])


def test_each_read_gives_its_connection_back_even_when_it_fails(monkeypatch):
    single = redis.Redis.from_url(settings.REDIS_URL, max_connections=1)

    for _ in range(5):  # a connection kept would make the second read "Too many connections"
        assert mget(single, ["a", "b"]) == [None, None]
    monkeypatch.setattr(Connection, "send_command", _always_drop)
    with pytest.raises(redis.ConnectionError, match="reset"):
        mget(single, ["a"])
    monkeypatch.undo()
    assert mget(single, ["a"]) == [None]
    single.close()


def _always_drop(connection: Connection, *args: object, **kwargs: object) -> None:
    raise redis.ConnectionError("Connection reset by peer")


def _kill(client: redis.Redis, connection_id: int) -> None:
    """Close one connection from Redis's side, as a restart or an idle timeout would."""
    killer = redis.Redis.from_url(settings.REDIS_URL)
    killer.client_kill_filter(_id=connection_id)
    killer.close()
