"""The events telegram services record, and the poke that wakes the bot process."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# Facts of each: user_id.
TELEGRAM_BOUND = "telegram.bound"
TELEGRAM_UNBOUND = "telegram.unbound"
# The bot process listens here; any process may send (a poke: "the outbox has work").
BOT_CHANNEL = "telegram.bot"
# Recorded when outbox rows were written; the reaction pokes the bot. No facts.
OUTBOX_READY = "outbox.ready"


def poke_bot() -> None:
    """Tell the bot the outbox has work. Best effort: the bot also polls the outbox."""
    try:
        async_to_sync(get_channel_layer().send)(BOT_CHANNEL, {"type": OUTBOX_READY})
    except Exception:  # the outbox row is durable; the bot's poll will find it
        logger.warning("could not poke the bot; it will poll")
