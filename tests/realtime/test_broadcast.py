"""Broadcasting from sync code through the real Redis channel layer."""

import pytest
import redis
from channels.layers import get_channel_layer

from realtime.broadcast import broadcast

pytestmark = pytest.mark.django_db


def test_a_send_on_a_connection_redis_dropped_is_tried_once_more(user, events_of, monkeypatch):
    # After a Redis restart a pooled connection fails its first command, unsent.
    layer = get_channel_layer()
    real, failures = layer.group_send, []

    async def first_send_fails(group, message):
        if not failures:
            failures.append(group)
            raise redis.ConnectionError("Connection closed by server.")
        await real(group, message)

    monkeypatch.setattr(layer, "group_send", first_send_fails)
    probe = events_of(user)

    broadcast(user_id=user.pk, type="habit.updated", data={"id": 7})

    assert failures
    assert [f["data"] for f in probe.of_type("habit.updated", wait=1.0)] == [{"id": 7}]


def test_a_send_that_fails_for_another_reason_is_not_repeated(user, events_of, monkeypatch):
    layer = get_channel_layer()
    calls = []

    async def refused(group, message):
        calls.append(group)
        raise redis.ResponseError("OOM command not allowed")

    monkeypatch.setattr(layer, "group_send", refused)
    probe = events_of(user)

    broadcast(user_id=user.pk, type="habit.updated", data={"id": 7})  # logged, not raised

    assert len(calls) == 1
    assert probe.of_type("habit.updated", wait=0.3) == []
