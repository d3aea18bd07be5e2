"""The live socket: routes frames, nothing else (no writes, no business rules)."""

import asyncio
import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from config.schemas import as_json
from instances.schemas import InstanceOut
from instances.selectors import instance_list_today
from realtime import presence
from realtime.auth import SUBPROTOCOL, SocketIdentity, identify, token_from_subprotocols
from realtime.groups import user_group

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MUCH = 4429
CLOSE_TOO_BIG = 1009


@database_sync_to_async
def _today_snapshot(user_id: int) -> list[dict]:
    user = User.objects.only("timezone").get(pk=user_id)
    return [as_json(InstanceOut, i) for i in instance_list_today(user=user)]


class LiveConsumer(AsyncWebsocketConsumer):
    """One socket of one user: `hello`, `today.snapshot`, then every event of theirs."""

    identity: SocketIdentity | None = None
    expiry: asyncio.Task | None = None

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
        await self.channel_layer.group_add(self.group, self.channel_name)
        await database_sync_to_async(presence.socket_opened)(self.identity.user_id)
        self.expiry = asyncio.create_task(self._close_at_expiry(self.identity))
        self.window_start, self.frames_in_window = time.monotonic(), 0
        await self._send("hello", {"user_id": self.identity.user_id})
        await self._send("today.snapshot", await _today_snapshot(self.identity.user_id))

    async def disconnect(self, code: int) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
        if self.identity is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await database_sync_to_async(presence.socket_closed)(self.identity.user_id)
            self.identity = None

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
        except (ValueError, UnicodeDecodeError):
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
