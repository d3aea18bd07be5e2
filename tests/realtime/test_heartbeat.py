"""The heartbeat closes the sockets that lost Redis one by one: a client already gone does not
stop it, nor the others' closing."""

from realtime.consumers import CLOSE_TRY_AGAIN, LiveConsumer
from realtime.heartbeat import _close_all


class _Gone(LiveConsumer):
    """A socket whose client went away: every send raises, as uvicorn's does."""

    channel_name = "gone"

    def __init__(self) -> None:
        async def send(message: dict) -> None:
            raise ConnectionResetError("client disconnected")

        self.base_send = send


class _Open(LiveConsumer):
    channel_name = "open"

    def __init__(self) -> None:
        self.sent: list[dict] = []

        async def send(message: dict) -> None:
            self.sent.append(message)

        self.base_send = send


async def test_a_client_already_gone_does_not_stop_the_others_closing(caplog):
    gone, still_open = _Gone(), _Open()

    await _close_all([gone, still_open], "live socket closed: Redis lost its group memberships")

    assert still_open.sent == [{"type": "websocket.close", "code": CLOSE_TRY_AGAIN}]
    assert "Traceback" not in caplog.text
