"""W8: the web server itself refuses a frame over the app's limit. uvicorn reads a frame of
up to 16 MiB by default before the app sees it, and the app's own check (1009) came only
after the whole frame was read and buffered: each socket could make a worker hold 16 MiB."""

import pytest
import requests
from django.conf import settings
from websockets.exceptions import ConnectionClosed

from tests.factories import UserFactory
from tests.system.conftest import System

pytestmark = pytest.mark.slow


def test_a_one_megabyte_frame_is_refused_by_the_server_and_it_stays_healthy(system: System):
    system.start_web()
    user = UserFactory()
    socket = system.socket(user)

    socket.connection.send("x" * 1024 * 1024)
    with pytest.raises(ConnectionClosed) as closed:
        socket.connection.recv(timeout=15)

    code, reason = closed.value.rcvd.code, closed.value.rcvd.reason
    assert code == 1009
    # The app closes 1009 without a reason; the server says what it refused, and the app's
    # receive never saw the frame.
    assert reason, "closed by the app, after the server had read the whole frame"
    again = system.socket(user)
    again.connection.send('{"type": "ping"}')
    assert again.frame()["type"] == "pong"
    again.close()
    assert requests.get(system.base + "/healthz", timeout=5).status_code == 200


def test_a_frame_at_the_limit_still_reaches_the_app(system: System):
    system.start_web()
    socket = system.socket(UserFactory())

    socket.connection.send("x" * settings.WS_MAX_FRAME_BYTES)  # not JSON: junk, answered

    assert socket.frame()["type"] == "error"
    socket.close()


def test_the_server_declines_permessage_deflate(system: System):
    """A browser (and the test client) offers compression; the server answers without the
    extension, so no socket holds a compressor's state (half its memory)."""
    system.start_web()
    socket = system.socket(UserFactory())

    assert "Sec-WebSocket-Extensions" not in socket.connection.response.headers
    socket.connection.send('{"type": "ping"}')
    assert socket.frame()["type"] == "pong"
    socket.close()
