"""Telegram's own limit, kept before Telegram has to say so: about 30 messages a second from a
bot in all, and one a second to any one chat (DECISIONS "Telegram pacing").

`Pacer.turn(chat)` is the door every send of the relay goes through. Two buckets:

- the global one hands out send slots `1 / TELEGRAM_SENDS_PER_SECOND` apart, in the order
  they were asked for (the relay asks oldest due first), so a burst leaves at the steady rate
  instead of all at once, and a stalled event loop does not catch up in a burst;
- each chat has a lock and the moment it may be written to again: its previous send's *end*
  plus `TELEGRAM_CHAT_INTERVAL_SECONDS`, so Telegram, which sees a message somewhere between
  the start and the end of its send, never sees two closer than that. A chat waiting for its
  second costs the others nothing: it waits before it asks for a global slot.

One relay process sends (it owns the Telethon session), so the buckets live in its memory.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from django.conf import settings

Clock = Callable[[], float]
# Chats remembered before the expired ones are forgotten.
PRUNE_ABOVE = 1_000


class SlotBucket:
    """A token bucket of one token refilled every `interval` s: `take()` returns when the
    token is ours. Waiters are served in the order they came (an asyncio lock is FIFO), and
    the next token is counted from when this one was actually taken, so an event loop that
    stalled does not release the slots it missed all at once."""

    def __init__(self, interval: float, clock: Clock = time.monotonic) -> None:
        self.interval, self._clock = interval, clock
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while (wait := self._next - self._clock()) > 0:  # a hold may move it meanwhile
                await asyncio.sleep(wait)
            self._next = self._clock() + self.interval

    def hold(self, seconds: float) -> None:
        """No token before `seconds` from now (Telegram asked for a FloodWait)."""
        self._next = max(self._next, self._clock() + seconds)


@dataclass
class _Chat:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    free_at: float = 0.0  # when it may be written to again
    users: int = 0  # sends waiting for or holding its lock


class Pacer:
    def __init__(
        self,
        *,
        per_second: float | None = None,
        chat_interval: float | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        per_second = per_second or settings.TELEGRAM_SENDS_PER_SECOND
        self.chat_interval = (
            settings.TELEGRAM_CHAT_INTERVAL_SECONDS if chat_interval is None else chat_interval
        )
        self._clock = clock
        self._global = SlotBucket(1 / per_second, clock)
        self._chats: dict[int, _Chat] = {}
        self._prune_above = PRUNE_ABOVE

    @asynccontextmanager
    async def turn(self, chat: int) -> AsyncIterator[None]:
        """Wait until `chat` may be written to and a global slot is ours; the body sends."""
        self._prune()
        state = self._chats.setdefault(chat, _Chat())
        state.users += 1
        try:
            async with state.lock:  # FIFO: a chat's messages keep their order
                await asyncio.sleep(max(0.0, state.free_at - self._clock()))
                await self._global.take()
                try:
                    yield
                finally:
                    state.free_at = self._clock() + self.chat_interval
        finally:
            state.users -= 1

    def hold(self, seconds: float) -> None:
        self._global.hold(seconds)

    def _prune(self) -> None:
        """Forget chats nobody waits for and past their interval, now and then (amortized)."""
        if len(self._chats) <= self._prune_above:
            return
        now = self._clock()
        self._chats = {
            chat: state for chat, state in self._chats.items()
            if state.users or state.free_at > now
        }  # fmt: skip
        self._prune_above = max(PRUNE_ABOVE, 2 * len(self._chats))
