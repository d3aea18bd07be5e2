"""`python -m tests.system.bot_press TELEGRAM_ID INSTANCE_ID`: the bot's process pressing "Done".

The bot runs in a process of its own in production (`manage.py runbot`); this is one, on the
settings and environment it is started with, driving the production handlers the way
tests/telegram does: a real Telethon client fed a raw callback update, only the network fake
(tests/telegram/conftest.py). Prints the answer the user would see.
"""

import asyncio
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

from telethon import TelegramClient  # noqa: E402

from telegram.handlers import BotHandlers  # noqa: E402
from tests.telegram.conftest import (  # noqa: E402
    API_HASH,
    API_ID,
    BOT_ID,
    Chat,
    FakeTelegram,
    telegram_user,
)


async def press_done(telegram_id: int, instance_id: int) -> list[str]:
    telegram = FakeTelegram()
    client = TelegramClient(None, API_ID, API_HASH)
    client._mb_entity_cache.set_self_user(BOT_ID, True, 1)
    client._sender.send = telegram.send
    BotHandlers(client).register()
    await Chat(client, telegram_user(telegram_id)).press(f"done:{instance_id}".encode())
    return [answer.message for answer in telegram.answers()]


def main() -> int:
    telegram_id, instance_id = (int(arg) for arg in sys.argv[1:3])
    answers = asyncio.run(press_done(telegram_id, instance_id))
    print("\n".join(answers))
    return 0 if answers else 1


if __name__ == "__main__":
    sys.exit(main())
