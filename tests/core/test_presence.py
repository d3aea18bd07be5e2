"""Presence leases renewed many at a time (a process's heartbeat, realtime/heartbeat.py): each
socket's lease moves on, its user's count stays right, across the script's batches."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from core import presence
from core.redis import get_redis, key

pytestmark = pytest.mark.django_db


def _lease_ends(user_id: int, socket: str) -> float | None:
    return get_redis().zscore(key("sockets", user_id), socket)


async def test_a_process_renews_every_sockets_lease_in_one_call():
    users = range(900_000, 900_000 + 600)  # more than one batch, two sockets a user
    sockets = [(user, f"worker!{user}-{n}") for user in users for n in range(2)]
    for user, socket in sockets:
        assert await presence.asocket_opened(user, socket)
    before = await sync_to_async(_lease_ends)(*sockets[-1])

    await asyncio.sleep(0.05)
    await presence.asockets_alive(sockets)

    assert len(sockets) > presence.RENEW_BATCH
    assert await sync_to_async(_lease_ends)(*sockets[-1]) > before
    assert await sync_to_async(_lease_ends)(*sockets[0]) > before
    assert await sync_to_async(presence.online_among)(users) == set(users)
    counts = await sync_to_async(get_redis().hmget)(presence.presence_key(), [str(users[0])])
    assert counts == [b"2"]
    for user, socket in sockets:
        await presence.asocket_closed(user, socket)
    assert await sync_to_async(presence.online_among)(users) == set()
