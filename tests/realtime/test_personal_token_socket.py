"""A personal token on the socket's bearer subprotocol (SPEC §10: `read` covers the socket)."""

import pytest
from channels.db import database_sync_to_async as sync_to_async

from accounts.services import personal_token_create, personal_token_revoke, user_logout_all
from tests.realtime.conftest import Socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def _token(user, scopes: list[str]) -> str:
    issued = await sync_to_async(personal_token_create)(user=user, name="socket", scopes=scopes)
    return issued.secret


async def test_a_read_token_connects_and_hears_hello(user):
    socket = Socket(await _token(user, ["read"]))

    connected, subprotocol = await socket.open()

    assert (connected, subprotocol) == (True, "bearer")
    assert await socket.frame() == {"type": "hello", "data": {"user_id": user.pk}}
    assert (await socket.frame())["type"] == "today.snapshot"
    await socket.close()


async def test_a_revoked_token_is_closed_4401(user):
    secret = await _token(user, ["read"])
    token_id = await sync_to_async(lambda: user.personal_tokens.get().pk)()
    await sync_to_async(personal_token_revoke)(user=user, token_id=token_id)
    socket = Socket(secret)

    connected, _ = await socket.open()

    assert connected
    assert await socket.closed_with() == 4401


async def test_logout_everywhere_closes_a_socket_opened_with_a_personal_token(user):
    socket = Socket(await _token(user, ["write"]))
    assert (await socket.open())[0]
    await socket.frame()
    await socket.frame()

    await sync_to_async(user_logout_all)(user=user)

    assert await socket.closed_with() == 4401


async def test_revoking_a_token_closes_its_open_socket_and_no_other(user):
    first = await _token(user, ["read"])
    second = await _token(user, ["read"])
    sockets = [Socket(first), Socket(second)]
    for socket in sockets:
        assert (await socket.open())[0]
        await socket.frame()
        await socket.frame()
    token_id = await sync_to_async(
        lambda: user.personal_tokens.order_by("pk").values_list("pk", flat=True).first()
    )()

    await sync_to_async(personal_token_revoke)(user=user, token_id=token_id)

    assert await sockets[0].closed_with() == 4401
    await sockets[1].send({"type": "ping"})
    assert await sockets[1].frame() == {"type": "pong", "data": {}}
    await sockets[1].close()
