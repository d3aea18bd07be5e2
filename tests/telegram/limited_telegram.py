"""A fake Telegram that keeps Telegram's limit for bots: about `per_second` messages a second in
all and one every `chat_interval` seconds to any one chat. Past either it refuses the send with
Telethon's own `FloodWaitError` (built as Telethon builds it from `FLOOD_WAIT_X`), as Telegram
does, and it records every message it accepted, with when.

It stands where the network is: `client._sender.send` of a real, unconnected Telethon client
(`limited_client`), so Telethon's request building and its own flood-wait handling run as in
production. Used by tests/telegram/test_pacing.py and the `telegram_burst` bench scenario.

Telegram does not publish its algorithm. The fake takes a strict reading: the global limit is
a token bucket of `burst` messages refilled at `per_second` (3 by default: 100 ms of scheduling
jitter at 30 a second, nowhere near a burst of 30), and a chat's next message must come a full
`chat_interval` after its previous one was accepted.
"""

import asyncio
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telethon import TelegramClient, errors, functions, types

API_ID, API_HASH = 123456, "0123456789abcdef0123456789abcdef"
BOT_ID = 7_000_000_001
# Float arithmetic of evenly spaced slots must not turn "exactly on time" into "too early".
EPSILON = 1e-6


@dataclass(frozen=True)
class Accepted:
    at: float  # time.monotonic() when Telegram took it
    chat: int
    text: str
    id: int


class LimitedTelegram:
    def __init__(
        self, *, per_second: float = 30.0, chat_interval: float = 1.0, burst: int = 3
    ) -> None:
        self.per_second, self.chat_interval, self.burst = per_second, chat_interval, burst
        self.accepted: list[Accepted] = []
        self.flood_waits: list[int] = []  # the seconds of each FloodWait it raised
        self._tokens = float(burst)
        self._refilled_at = time.monotonic()
        self._chat_last: dict[int, float] = {}
        self._next_id = 1000

    def send(self, request: Any, ordered: bool = False) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        try:
            future.set_result(self._answer(request))
        except errors.RPCError as error:
            future.set_exception(error)
        return future

    def _answer(self, request: Any) -> Any:
        if not isinstance(request, functions.messages.SendMessageRequest):
            raise AssertionError(f"the relay made an unexpected request: {type(request).__name__}")
        now = time.monotonic()
        chat = request.peer.user_id
        wait = max(self._global_wait(now), self._chat_wait(chat, now))
        if wait > 0:
            seconds = max(1, math.ceil(wait))  # Telegram says whole seconds, at least one
            self.flood_waits.append(seconds)
            raise errors.FloodWaitError(request=request, capture=seconds)
        self._tokens -= 1
        self._chat_last[chat] = now
        self._next_id += 1
        self.accepted.append(Accepted(now, chat, request.message, self._next_id))
        return types.UpdateShortSentMessage(
            out=True, id=self._next_id, pts=1, pts_count=1, date=datetime.now(UTC)
        )

    def _global_wait(self, now: float) -> float:
        self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * self.per_second)
        self._refilled_at = now
        if self._tokens >= 1 - EPSILON:
            return 0.0
        return (1 - self._tokens) / self.per_second

    def _chat_wait(self, chat: int, now: float) -> float:
        last = self._chat_last.get(chat)
        if last is None:
            return 0.0
        wait = last + self.chat_interval - now
        return wait if wait > EPSILON else 0.0

    # --- what a test or the bench looks at ---------------------------------------------------

    def chats(self) -> list[int]:
        return [a.chat for a in self.accepted]

    def sent_twice(self) -> int:
        """Messages accepted more than once (each row's text names its reminder)."""
        texts = [(a.chat, a.text) for a in self.accepted]
        return len(texts) - len(set(texts))

    def closest_in_one_chat(self) -> float:
        """The shortest time between two accepted messages to the same chat (inf: none)."""
        last: dict[int, float] = {}
        closest = math.inf
        for a in self.accepted:
            if a.chat in last:
                closest = min(closest, a.at - last[a.chat])
            last[a.chat] = a.at
        return closest


def limited_client(telegram: LimitedTelegram) -> TelegramClient:
    """A real Telethon client whose only fake part is the network send."""
    client = TelegramClient(None, API_ID, API_HASH)
    client._mb_entity_cache.set_self_user(BOT_ID, True, 1)
    client._sender.send = telegram.send
    return client
