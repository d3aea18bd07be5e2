"""W8: the socket's edges. A user's sockets are capped across every web worker (the presence
leases in Redis), a page of another origin (scheme, host or port) cannot open one, and a
worker that died without closing its sockets does not hold their places for long. Also E4's
token expiring past the calendar, on the socket. The server's own refusal of an oversized
frame is tests/system/test_socket_frames.py."""

import asyncio

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from config.asgi import application
from core import presence
from core.redis import get_redis
from realtime.broadcast import broadcast
from tests.accounts.test_token_edges import signed_with_exp
from tests.factories import UserFactory
from tests.realtime.conftest import Socket, access_token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

CAP = 3


async def _greeted(token: str, origin: bytes = b"http://127.0.0.1:8000") -> Socket:
    socket = Socket(token, origin=(b"origin", origin))
    assert await socket.open() == (True, "bearer")
    assert (await socket.frame())["type"] == "hello"
    assert (await socket.frame())["type"] == "today.snapshot"
    return socket


async def _refused_with(token: str) -> int | None:
    """The close code of a socket let in by the handshake and refused by the app."""
    socket = Socket(token)
    assert (await socket.open())[0]
    return await socket.closed_with()


@override_settings(WS_MAX_SOCKETS_PER_USER=CAP)
async def test_a_socket_past_the_cap_is_refused_4429_and_the_open_ones_stay(user):
    token = await sync_to_async(access_token_for)(user)
    opened = [await _greeted(token) for _ in range(CAP)]
    other = await _greeted(
        await sync_to_async(access_token_for)(await sync_to_async(UserFactory)())
    )

    assert await _refused_with(token) == 4429
    await sync_to_async(broadcast)(user_id=user.pk, type="habit.deleted", data={"id": 1})
    for socket in opened:
        assert await socket.frames_until_quiet() == [{"type": "habit.deleted", "data": {"id": 1}}]
    await opened.pop().close()
    opened.append(await _greeted(token))  # a place freed is a place taken
    for socket in [*opened, other]:
        await socket.close()
    assert await sync_to_async(presence.online_among)([user.pk]) == set()


@override_settings(WS_MAX_SOCKETS_PER_USER=CAP)
async def test_the_cap_counts_the_sockets_other_workers_hold(user):
    for n in range(CAP):  # what another worker process records for its sockets
        await sync_to_async(presence.socket_opened)(user.pk, f"worker-2!socket-{n}")

    assert await _refused_with(await sync_to_async(access_token_for)(user)) == 4429


@override_settings(WS_MAX_SOCKETS_PER_USER=CAP, WS_LAYER_CHECK_SECONDS=0.2)
async def test_the_places_of_a_dead_workers_sockets_free_themselves(user):
    for n in range(CAP):  # recorded, then never renewed: their worker was killed
        await sync_to_async(presence.socket_opened)(user.pk, f"killed!socket-{n}")
    token = await sync_to_async(access_token_for)(user)
    assert await _refused_with(token) == 4429

    await asyncio.sleep(presence.lease_seconds() + 0.2)

    socket = await _greeted(token)
    await asyncio.sleep(presence.lease_seconds() * 2)  # an open socket renews its place
    assert await sync_to_async(presence.online_among)([user.pk]) == {user.pk}
    await socket.close()


async def test_presence_counts_each_socket_once_and_forgets_it_on_close(user):
    token = await sync_to_async(access_token_for)(user)
    first, second = await _greeted(token), await _greeted(token)

    count = await sync_to_async(get_redis().hget)(presence.presence_key(), str(user.pk))
    await first.close()
    await second.close()

    assert int(count) == 2
    assert await sync_to_async(get_redis().hget)(presence.presence_key(), str(user.pk)) is None


@pytest.mark.parametrize(
    "origin",
    [
        b"http://127.0.0.1:9999",  # another port of the same host: another site
        b"https://127.0.0.1:8000",  # another scheme
        b"http://127.0.0.1",
        b"http://evil.example",
        b"http://127.0.0.1.evil.example:8000",
        b"null",  # a sandboxed frame or a file
    ],
)
async def test_a_page_of_another_origin_cannot_open_a_socket(user, origin):
    socket = Socket(await sync_to_async(access_token_for)(user), origin=(b"origin", origin))

    connected, _ = await socket.open()

    assert not connected


async def test_a_client_that_names_no_origin_cannot_open_a_socket(user):
    token = await sync_to_async(access_token_for)(user)
    communicator = WebsocketCommunicator(application, "/ws/", subprotocols=["bearer", token])

    connected, _ = await communicator.connect(timeout=5)

    assert not connected


@pytest.mark.parametrize("origin", [b"http://127.0.0.1:8000", b"http://localhost:8000"])
async def test_the_apps_own_origins_open_a_socket(user, origin):
    socket = await _greeted(await sync_to_async(access_token_for)(user), origin)
    await socket.close()


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
@pytest.mark.parametrize(
    ("origin", "opens"),
    [
        (b"https://app.example.com", True),
        (b"https://app.example.com:443", True),  # the same origin, its port spelled out
        (b"http://app.example.com", False),
        (b"https://app.example.com:8443", False),
        (b"https://sub.app.example.com", False),
    ],
)
async def test_a_page_allowed_to_call_the_api_may_open_a_socket(user, origin, opens):
    socket = Socket(await sync_to_async(access_token_for)(user), origin=(b"origin", origin))

    connected, _ = await socket.open()

    assert connected is opens
    if connected:
        await socket.close()


async def test_a_token_expiring_past_the_calendar_is_closed_4401(user):
    token = await sync_to_async(signed_with_exp)(user, 10**20)

    assert await _refused_with(token) == 4401
