"""Whether this installation has a Telegram bot: its three credentials, read once here so the
bot process and the run command decide alike."""

from typing import NamedTuple

from django.conf import settings

MISSING = (
    "Telegram bot not started: set TELEGRAM_API_ID (a number), TELEGRAM_API_HASH "
    "and TELEGRAM_BOT_TOKEN (see the README)."
)


class BotCredentials(NamedTuple):
    api_id: int
    api_hash: str
    token: str


def bot_credentials() -> BotCredentials | None:
    """The credentials, or None when one is missing or the API id is not a number."""
    api_id, api_hash, token = (
        settings.TELEGRAM_API_ID, settings.TELEGRAM_API_HASH, settings.TELEGRAM_BOT_TOKEN
    )  # fmt: skip
    if not (api_id and api_hash and token) or not api_id.isdigit():
        return None
    return BotCredentials(int(api_id), api_hash, token)
