"""F3 for the live socket: a frame nested deeper than Python's parser goes is junk like any
other (an error frame), not a crash; the size and rate limits are in test_socket.py (W6)."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.conf import settings

from tests.realtime.conftest import Socket, access_token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.mark.parametrize("shape", ["array", "object"])
async def test_a_deeply_nested_frame_gets_an_error_frame_and_the_socket_lives_on(user, shape):
    socket = Socket(await sync_to_async(access_token_for)(user))
    await socket.open()
    await socket.frames_until_quiet(quiet=0.2)
    depth = settings.WS_MAX_FRAME_BYTES // 8  # deep, yet under the frame size limit
    deep = "[" * depth + "]" * depth if shape == "array" else '{"a":' * depth + "1" + "}" * depth

    await socket.send(deep[: settings.WS_MAX_FRAME_BYTES])

    assert (await socket.frame())["type"] == "error"
    await socket.send({"type": "ping"})
    assert (await socket.frame())["type"] == "pong"
    await socket.close()
