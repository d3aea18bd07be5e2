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
from telegram.services import Delivery

logger = logging.getLogger(__name__)

POLL_SECONDS = 15
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


class Relay:
    def __init__(self, client: TelegramClient) -> None:
        self.client = client

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
        """Send every due outbox message; returns how many were sent."""
        deliveries = await database_sync_to_async(services.outbox_claim)()
        sent = 0
        for delivery in deliveries:
            sent += await self._deliver(delivery)
        return sent

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
            logger.warning("telegram: flood wait %ss on %s; retrying then", flood.seconds, context)
            await self._later(delivery, flood.seconds, f"FloodWait {flood.seconds}s")
            return 0
        except FINAL_ERRORS as refusal:
            logger.info("telegram: %s refused for good: %s", context, refusal)
            await database_sync_to_async(services.outbox_give_up)(
                message_id=delivery.id, error=str(refusal)
            )
            return 0
        except (errors.RPCError, OSError, ConnectionError, TimeoutError) as failure:
            logger.warning("telegram: %s failed: %s; retrying later", context, failure)
            await self._later(delivery, _backoff(0), f"{type(failure).__name__}: {failure}")
            return 0
        await database_sync_to_async(services.outbox_sent)(
            message_id=delivery.id, telegram_message_id=message_id
        )
        return 1

    async def _later(self, delivery: Delivery, seconds: int, error: str) -> None:
        await database_sync_to_async(services.outbox_retry_later)(
            message_id=delivery.id, seconds=seconds, error=error
        )
