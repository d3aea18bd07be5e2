"""core.counters: the fixed-window counter every throttle uses, on the real Redis."""

import logging

import pytest
from django.test import override_settings

from core import counters
from core.counters import Limit
from core.redis import get_redis
from core.requests import client_network


def test_a_counter_lets_limit_hits_through_then_says_how_long_to_wait():
    limit = Limit(counters.counter_key("test", "a"), 3, 60)

    waits = [counters.take(limit, what="test") for _ in range(5)]

    assert waits[:3] == [0, 0, 0]
    assert all(0 < wait <= 60 for wait in waits[3:])
    assert int(get_redis().get(limit.key)) == 3  # refused hits are not counted
    assert 0 < get_redis().ttl(limit.key) <= 60


def test_counters_taken_together_are_all_counted_or_none():
    full = Limit(counters.counter_key("test", "full"), 1, 60)
    other = Limit(counters.counter_key("test", "other"), 100, 60)
    assert counters.take(full, other, what="test") == 0

    for _ in range(10):
        assert counters.take(full, other, what="test") > 0

    # The refused calls ran up neither counter: a caller refused by one limit cannot use up
    # an allowance it shares with others.
    assert int(get_redis().get(other.key)) == 1


def test_the_wait_is_the_longest_among_the_full_counters():
    short = Limit(counters.counter_key("test", "short"), 1, 10)
    long = Limit(counters.counter_key("test", "long"), 1, 500)
    counters.take(short, long, what="test")

    assert 10 < counters.take(short, long, what="test") <= 500


def test_giving_back_never_goes_below_zero_nor_makes_a_key_without_expiry():
    limit = Limit(counters.counter_key("test", "given"), 2, 60)
    counters.take(limit, what="test")

    counters.give_back(limit.key, counters.counter_key("test", "never-taken"), what="test")
    counters.give_back(limit.key, what="test")

    assert int(get_redis().get(limit.key)) == 0
    assert not get_redis().exists(counters.counter_key("test", "never-taken"))
    assert counters.take(limit, what="test") == counters.take(limit, what="test") == 0
    assert counters.take(limit, what="test") > 0


def test_clear_starts_a_counter_afresh():
    limit = Limit(counters.counter_key("test", "cleared"), 1, 60)
    counters.take(limit, what="test")

    counters.clear(limit.key, what="test")

    assert counters.take(limit, what="test") == 0


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_without_redis_every_counter_lets_through_and_says_so(caplog):
    limit = Limit(counters.counter_key("test", "away"), 1, 60)

    with caplog.at_level(logging.WARNING):
        waits = [counters.take(limit, what="test throttle") for _ in range(3)]
        counters.give_back(limit.key, what="test throttle")
        counters.clear(limit.key, what="test throttle")

    assert waits == [0, 0, 0]
    assert "test throttle unavailable" in caplog.text


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("unknown", "unknown"),
    ],
)
def test_a_per_address_limit_counts_an_ipv6_client_by_its_64(ip, network):
    assert client_network(ip) == network
