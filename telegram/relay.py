"""The bot side of the relay: woken through the channel layer, it sends what the outbox owes.

Other processes never talk to Telegram: they write outbox rows and poke `BOT_CHANNEL`.
The bot also polls, so a poke lost while it was down costs a few seconds, not a message.
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from telethon import TelegramClient, errors, types

from telegram import services
from telegram.events import BOT_CHANNEL
from telegram.handlers import open_buttons, snooze_buttons
from telegram.pacing import Pacer
from telegram.services import Delivery

logger = logging.getLogger(__name__)

POLL_SECONDS = 15
# Claimed at a time: at 30 a second, a few seconds of sends, well inside the claim's lease.
BATCH = 100
# Telegram will never accept these for this chat or message: retrying cannot help.
FINAL_ERRORS = (
    errors.UserIsBlockedError,
    errors.InputUserDeactivatedError,
    errors.PeerIdInvalidError,
    errors.MessageNotModifiedError,
    errors.MessageIdInvalidError,
)


def _backoff(attempt: int) -> int:
    return min(30 * 2**attempt, 3600)


def _give_back(deliveries: list[Delivery]) -> None:
    """Claimed, never started: due again at their due time, for the next relay."""
    for delivery in deliveries:
        if delivery.due_at is not None:
            services.outbox_release(message_id=delivery.id, due_at=delivery.due_at)


class Relay:
    """Sends what the outbox owes, oldest due first, paced to Telegram's limit (`Pacer`)."""

    def __init__(self, client: TelegramClient, pacer: Pacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or Pacer()
        # Claimed and not yet sent or let go, by outbox id.
        self._in_flight: dict[int, Delivery] = {}

    async def run(self) -> None:
        layer = get_channel_layer()
        while True:
            try:
                await asyncio.wait_for(layer.receive(BOT_CHANNEL), POLL_SECONDS)
            except TimeoutError:
                pass
            except Exception:
                logger.warning("telegram relay: channel layer unavailable; polling", exc_info=True)
                await asyncio.sleep(POLL_SECONDS)
            await self.deliver_due()

    async def deliver_due(self) -> int:
        """Send every due outbox message, batch after batch until none is due; returns how
        many were sent. A batch's sends run together, each waiting for its turn; the next
        batch is claimed while one is sending, so the pacer never waits for the database
        (two batches at most: a few seconds at 30 a second, well inside the claim's lease)."""
        sent = 0
        batches: list[asyncio.Future[list[int]]] = []
        claiming: asyncio.Future[list[Delivery]] | None = None
        try:
            while True:
                claiming = asyncio.ensure_future(
                    database_sync_to_async(services.outbox_claim)(limit=BATCH)
                )
                claimed = await asyncio.shield(claiming)  # a claim under way still commits
                claiming = None
                if not claimed:
                    break
                # A message still waiting here past its lease (a long FloodWait, a busy chat)
                # is claimed again: it is ours already, and sent once.
                fresh = [d for d in claimed if d.id not in self._in_flight]
                self._in_flight.update((d.id, d) for d in fresh)
                batches.append(asyncio.gather(*(self._paced(d) for d in fresh)))
                if len(batches) == 2:
                    sent += await self._sent_by(batches[0])
                    batches.pop(0)
                if len(claimed) < BATCH:
                    break
            for batch in batches:
                sent += await self._sent_by(batch)
        except BaseException:
            await self._stop(batches, claiming)
            raise
        return sent

    @staticmethod
    async def _sent_by(batch: asyncio.Future[list[int]]) -> int:
        # Waited for, not awaited: a cancellation of the relay must not cancel this batch
        # alone first (its waiters given back would let the next batch's first one take a
        # send slot before `_stop` cancels that batch too, out of order).
        await asyncio.wait({batch})
        return sum(batch.result())

    async def _stop(
        self, batches: list[asyncio.Future[list[int]]], claiming: asyncio.Future | None
    ) -> None:
        """Cancelled (the bot stops) or failed: the batches stop first (Relay._paced: sends
        under way finish, the others are given back), then a claim under way is given back
        whole; nothing is left running unowned or leased for nobody."""
        for batch in batches:
            batch.cancel()
        if batches:
            await asyncio.wait(batches)
        for batch in batches:
            if not batch.cancelled():
                batch.exception()  # retrieved: the cancellation itself
        # A send cancelled before its task first ran never reached `_paced`'s own give-back.
        unstarted = list(self._in_flight.values())
        self._in_flight.clear()
        if unstarted:
            await asyncio.shield(database_sync_to_async(_give_back)(unstarted))
        if claiming is not None:
            await asyncio.wait({claiming})
            if not claiming.cancelled() and claiming.exception() is None:
                await asyncio.shield(database_sync_to_async(_give_back)(claiming.result()))

    async def _paced(self, delivery: Delivery) -> int:
        """One send in its turn. Cancelled while waiting (the bot stops): its lease is given
        back, so the next relay sends it at once. Cancelled while sending: the send and its
        `sent_at` finish first, so a restart cannot send it again."""
        sending: asyncio.Future[int] | None = None
        try:
            async with self.pacer.turn(delivery.telegram_id):
                sending = asyncio.ensure_future(self._deliver(delivery))
                await asyncio.wait({sending})  # a cancellation here does not reach the send
                return sending.result()
        except asyncio.CancelledError:
            if sending is None:
                await asyncio.shield(database_sync_to_async(_give_back)([delivery]))
            else:
                await asyncio.wait({sending})
            raise
        finally:
            self._in_flight.pop(delivery.id, None)

    async def _send(self, delivery: Delivery) -> int | None:
        peer = types.InputPeerUser(delivery.telegram_id, delivery.access_hash)
        if delivery.edit_message_id is not None:
            await self.client.edit_message(
                peer, delivery.edit_message_id, delivery.text, buttons=None
            )
            return delivery.edit_message_id
        buttons = None
        if delivery.with_button:
            buttons = [open_buttons(delivery.instance_id)]
            if delivery.snooze_minutes:
                buttons.append(snooze_buttons(delivery.instance_id, delivery.snooze_minutes))
        message = await self.client.send_message(peer, delivery.text, buttons=buttons)
        return message.id if message is not None else None

    async def _deliver(self, delivery: Delivery) -> int:
        context = f"outbox {delivery.id} ({delivery.kind}) to {delivery.telegram_id}"
        try:
            message_id = await self._send(delivery)
        except errors.FloodWaitError as flood:
            # Past the pacing (Telethon sleeps through short waits itself): every send waits.
            logger.warning("telegram: flood wait %ss on %s; retrying then", flood.seconds, context)
            self.pacer.hold(flood.seconds)
            await self._later(delivery, flood.seconds, f"FloodWait {flood.seconds}s", counts=False)
            return 0
        except FINAL_ERRORS as refusal:
            logger.info("telegram: %s refused for good: %s", context, refusal)
            await database_sync_to_async(services.outbox_give_up)(
                message_id=delivery.id, error=str(refusal)
            )
            return 0
        except (errors.RPCError, OSError, ConnectionError, TimeoutError, ValueError) as failure:
            # ValueError: Telethon's "Request was unsuccessful N time(s)", its own retries
            # (short FloodWaits, server errors) spent.
            logger.warning("telegram: %s failed: %s; retrying later", context, failure)
            await self._later(delivery, _backoff(0), f"{type(failure).__name__}: {failure}")
            return 0
        await database_sync_to_async(services.outbox_sent)(
            message_id=delivery.id, telegram_message_id=message_id
        )
        return 1

    async def _later(
        self, delivery: Delivery, seconds: int, error: str, *, counts: bool = True
    ) -> None:
        await database_sync_to_async(services.outbox_retry_later)(
            message_id=delivery.id, seconds=seconds, error=error, counts=counts
        )
