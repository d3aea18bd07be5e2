import asyncio
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from telethon import TelegramClient

from telegram.handlers import BotHandlers
from telegram.relay import Relay


def _credentials() -> tuple[int, str, str] | None:
    api_id, api_hash, token = (
        settings.TELEGRAM_API_ID, settings.TELEGRAM_API_HASH, settings.TELEGRAM_BOT_TOKEN
    )  # fmt: skip
    if not (api_id and api_hash and token) or not api_id.isdigit():
        return None
    return int(api_id), api_hash, token


async def run_bot(api_id: int, api_hash: str, token: str) -> None:
    """The one process that owns the Telethon session, until SIGTERM or Ctrl-C."""
    client = TelegramClient(settings.TELEGRAM_SESSION, api_id, api_hash)
    await client.start(bot_token=token)
    BotHandlers(client).register()
    relay = asyncio.create_task(Relay(client).run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(client.disconnect()))
    try:
        await client.run_until_disconnected()
    finally:
        relay.cancel()


class Command(BaseCommand):
    help = "Run the Telegram bot (needs TELEGRAM_API_ID, TELEGRAM_API_HASH, TELEGRAM_BOT_TOKEN)."

    def handle(self, *args: object, **options: object) -> None:
        credentials = _credentials()
        if credentials is None:
            sys.stderr.write(
                "Telegram bot not started: set TELEGRAM_API_ID (a number), TELEGRAM_API_HASH "
                "and TELEGRAM_BOT_TOKEN (see the README).\n"
            )
            return
        asyncio.run(run_bot(*credentials))
