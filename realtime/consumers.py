"""The live socket: routes frames, nothing else (no writes, no business rules)."""

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from core import presence
from realtime.auth import SUBPROTOCOL, SocketIdentity, identify, token_from_subprotocols
from realtime.frames import today_snapshot_data
from realtime.groups import user_group
from realtime.heartbeat import LAYER_TROUBLE, heartbeat, layer_epoch

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MUCH = 4429
CLOSE_TOO_BIG = 1009
# The user already has WS_MAX_SOCKETS_PER_USER sockets open: the new one is refused (after
# accept, so a browser sees the code), the open ones are left alone.
CLOSE_TOO_MANY_SOCKETS = 4429
# RFC 6455 "Try Again Later": the server lost Redis, so this socket would hear nothing more;
# the client reconnects with backoff and its snapshot brings it back in step.
CLOSE_TRY_AGAIN = 1013


_today_snapshot = database_sync_to_async(today_snapshot_data)


class LiveConsumer(AsyncWebsocketConsumer):
    """One socket of one user: `hello`, `today.snapshot`, then every event of theirs."""

    identity: SocketIdentity | None = None
    expiry: asyncio.Task | None = None
    epoch: bytes | None = None
    closing = False

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except LAYER_TROUBLE:
            # The layer's receive loop lost Redis: end this socket cleanly, not with a traceback.
            logger.warning("live socket closed: the channel layer lost Redis")
            if not self.closing:
                with contextlib.suppress(OSError):  # the client may be gone already
                    await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closing = True
        await super().close(code=code, reason=reason)

    async def connect(self) -> None:
        subprotocols = self.scope.get("subprotocols", [])
        token = token_from_subprotocols(subprotocols)
        # Accept first, then close: a close before accept reaches browsers as a bare 403.
        await self.accept(subprotocol=SUBPROTOCOL if token else None)
        self.identity = await identify(token) if token else None
        if self.identity is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.group = user_group(self.identity.user_id)
        try:
            admitted = await self._join(self.identity.user_id)
        except LAYER_TROUBLE:
            logger.warning("live socket refused for now: Redis does not answer")
            self.identity = None
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        if not admitted:
            self.identity = None
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.expiry = asyncio.create_task(self._close_at_expiry(self.identity))
        # An open socket that no event can reach is worse than a closed one the client
        # reopens: the process's heartbeat closes it when Redis no longer answers or no longer
        # knows it, and renews its place among its user's meanwhile (realtime/heartbeat.py).
        heartbeat().join(self)
        self.window_start, self.frames_in_window = time.monotonic(), 0
        await self._send("hello", {"user_id": self.identity.user_id})
        await self._send("today.snapshot", await _today_snapshot(self.identity.user_id))

    async def _join(self, user_id: int) -> bool:
        """Take a place among the user's sockets, then join their group; False when every
        place is taken (counted across all web workers in Redis)."""
        # The epoch is read before joining: if Redis restarts in between, the heartbeat sees it.
        self.epoch = await layer_epoch(self.channel_layer, self.group)
        cap = settings.WS_MAX_SOCKETS_PER_USER
        if not await presence.asocket_opened(user_id, self.channel_name, cap=cap):
            return False
        await self.channel_layer.group_add(self.group, self.channel_name)
        return True

    async def disconnect(self, code: int) -> None:
        heartbeat().leave(self)
        if self.expiry is not None:
            self.expiry.cancel()
        if self.identity is not None:
            user_id, self.identity = self.identity.user_id, None
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
                await presence.asocket_closed(user_id, self.channel_name)
            except LAYER_TROUBLE:
                # Group entries expire by themselves; a stale presence count costs a few sends.
                logger.warning("live socket of user %s left without Redis to tell", user_id)

    def beating_user(self) -> int | None:
        """Whose place the heartbeat renews (None once the socket has left)."""
        return None if self.identity is None else self.identity.user_id

    async def lost_redis(self, reason: str) -> None:
        """The heartbeat found Redis away, or without this socket's group membership."""
        logger.warning(reason)
        with contextlib.suppress(OSError):  # the client may be gone already
            await self.close(code=CLOSE_TRY_AGAIN)

    async def _close_at_expiry(self, identity: SocketIdentity) -> None:
        remaining = (identity.expires_at - timezone.now()).total_seconds()
        await asyncio.sleep(max(remaining + settings.JWT_LEEWAY_SECONDS, 0))
        await self.close(code=CLOSE_UNAUTHORIZED)

    async def _send(self, type: str, data: Any) -> None:
        await self.send(text_data=json.dumps({"type": type, "data": data}))

    # --- client -> server --------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.identity is None:
            return
        if self._flooding():
            await self.close(code=CLOSE_TOO_MUCH)
            return
        raw = text_data if text_data is not None else bytes_data or b""
        if len(raw) > settings.WS_MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            frame = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting is junk too
            await self._send("error", {"detail": "Frames are JSON objects."})
            return
        if isinstance(frame, dict) and frame.get("type") == "ping":
            await self._send("pong", {})
        else:
            await self._send("error", {"detail": "Unknown frame type; only ping is accepted."})

    def _flooding(self) -> bool:
        now = time.monotonic()
        if now - self.window_start >= 1.0:
            self.window_start, self.frames_in_window = now, 0
        self.frames_in_window += 1
        return self.frames_in_window > settings.WS_MAX_FRAMES_PER_SECOND

    # --- channel layer -> client ---------------------------------------------------------------

    async def event_forward(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message["event"]))

    async def event_forward_many(self, message: dict[str, Any]) -> None:
        for event in message["events"]:
            await self.send(text_data=json.dumps(event))

    async def session_revoke(self, message: dict[str, Any]) -> None:
        """Logout-all, a password change or deactivation: tokens older than `version` end."""
        if self.identity is not None and self.identity.token_version < message["version"]:
            await self.close(code=CLOSE_UNAUTHORIZED)

    async def session_revoke_token(self, message: dict[str, Any]) -> None:
        """A personal token was revoked: a socket opened with it closes."""
        if self.identity is not None and self.identity.personal_token_id == message["token_id"]:
            await self.close(code=CLOSE_UNAUTHORIZED)
