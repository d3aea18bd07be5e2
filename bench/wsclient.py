"""Many live-socket clients in one event loop, as browsers would open them.

Each socket sends its access token as the `bearer` subprotocol pair and offers
permessage-deflate (as browsers do), then waits for `hello` and `today.snapshot`.

One file descriptor a socket: the sockets scenario raises the process's open-file limit to
the hard limit before opening thousands (config/serving.py `raise_file_limit`). asyncio's
loop on Linux waits on epoll, which has no ceiling of 1,024 descriptors as select() has.
"""

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

CONNECT_SECONDS = 60.0


@dataclass
class Socket:
    user_id: int
    connection: ClientConnection
    # (arrival time.perf_counter(), frame) of every frame after the snapshot, while read.
    frames: asyncio.Queue = field(default_factory=asyncio.Queue)
    reader: asyncio.Task | None = None

    def start_reading(self) -> None:
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.connection:
            self.frames.put_nowait((time.perf_counter(), json.loads(raw)))

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        await self.connection.close()


async def _expect(connection: ClientConnection, kind: str) -> dict:
    frame = json.loads(await connection.recv())
    if frame.get("type") != kind:
        raise RuntimeError(f"expected {kind}, got {str(frame)[:200]}")
    return frame


async def open_socket(base_url: str, user_id: int, token: str) -> Socket:
    """A socket that got its `hello` and `today.snapshot` (else an exception)."""
    url = base_url.replace("http://", "ws://") + "/ws/"
    connection = await connect(
        url,
        origin=Origin(base_url),
        subprotocols=[Subprotocol("bearer"), Subprotocol(token)],
        open_timeout=CONNECT_SECONDS,
        ping_interval=None,  # the server pings; an idle client says nothing
        max_queue=None,
    )
    hello = await _expect(connection, "hello")
    if hello["data"]["user_id"] != user_id:
        raise RuntimeError(f"hello for user {hello['data']['user_id']}, not {user_id}")
    await _expect(connection, "today.snapshot")
    return Socket(user_id, connection)


async def open_many(
    base_url: str, tokens: Sequence[tuple[int, str]], *, at_once: int
) -> tuple[list[Socket], list[BaseException]]:
    """Open a socket per (user_id, token), `at_once` connects in flight; (opened, failures)."""
    gate = asyncio.Semaphore(at_once)

    async def one(user_id: int, token: str) -> Socket:
        async with gate:
            return await asyncio.wait_for(
                open_socket(base_url, user_id, token), CONNECT_SECONDS * 2
            )

    outcomes = await asyncio.gather(*(one(u, t) for u, t in tokens), return_exceptions=True)
    opened = [o for o in outcomes if isinstance(o, Socket)]
    return opened, [o for o in outcomes if isinstance(o, BaseException)]


async def close_all(sockets: Sequence[Socket]) -> None:
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
