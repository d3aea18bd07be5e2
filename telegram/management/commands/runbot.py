import asyncio
import os
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from telethon import TelegramClient

from telegram.credentials import MISSING, bot_credentials
from telegram.handlers import BotHandlers
from telegram.relay import Relay

# How long a stopping bot waits for the sends under way.
STOP_SECONDS = 10


async def run_bot(api_id: int, api_hash: str, token: str) -> None:
    """The one process that owns the Telethon session, until SIGTERM or Ctrl-C."""
    client = TelegramClient(settings.TELEGRAM_SESSION, api_id, api_hash)
    await client.start(bot_token=token)
    BotHandlers(client).register()
    relay = asyncio.create_task(Relay(client).run())

    async def stop() -> None:
        # The relay first, while the client is still connected: sends under way finish and
        # are marked sent, claimed ones not started are given back (Relay._paced).
        relay.cancel()
        await asyncio.wait({relay}, timeout=STOP_SECONDS)
        await client.disconnect()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(stop()))
    try:
        await client.run_until_disconnected()
    finally:
        relay.cancel()


class Command(BaseCommand):
    help = "Run the Telegram bot (needs TELEGRAM_API_ID, TELEGRAM_API_HASH, TELEGRAM_BOT_TOKEN)."

    def handle(self, *args: object, **options: object) -> None:
        credentials = bot_credentials()
        if credentials is None:
            # A process that cannot do its job fails, so a supervisor sees it (EX_CONFIG).
            sys.stderr.write(MISSING + "\n")
            sys.exit(os.EX_CONFIG)
        asyncio.run(run_bot(*credentials))
