import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from accounts.services import token_pair_issue
from config.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def access_token_for(user) -> str:
    return token_pair_issue(user=user).access


class Socket:
    """A WebSocket client against the real ASGI app and the real Redis channel layer."""

    def __init__(self, token: str | None, origin: tuple[bytes, bytes] = ORIGIN) -> None:
        protocols = ["bearer", token] if token else []
        self.communicator = WebsocketCommunicator(
            application, "/ws/", headers=[origin], subprotocols=protocols
        )

    async def open(self) -> tuple[bool, Any]:
        return await self.communicator.connect(timeout=5)

    async def frame(self, timeout: float = 2.0) -> dict:
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def frames_until_quiet(self, quiet: float = 0.5) -> list[dict]:
        frames = []
        while not await self.communicator.receive_nothing(timeout=quiet):
            frames.append(await self.frame())
        return frames

    async def closed_with(self, timeout: float = 3.0) -> int | None:
        output = await self.communicator.receive_output(timeout=timeout)
        return output.get("code") if output["type"] == "websocket.close" else None

    async def send(self, data: Any) -> None:
        await self.communicator.send_to(
            text_data=data if isinstance(data, str) else json.dumps(data)
        )

    async def close(self) -> None:
        await self.communicator.disconnect()


@pytest.fixture
def socket_for():
    return Socket
