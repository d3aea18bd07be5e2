"""Binding events for the owner's sockets, and the poke that wakes the bot process."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from realtime.broadcast import broadcast

TELEGRAM_BOUND = "telegram.bound"
TELEGRAM_UNBOUND = "telegram.unbound"
# The bot process listens here; any process may send (a poke: "the outbox has work").
BOT_CHANNEL = "telegram.bot"
OUTBOX_READY = "outbox.ready"


def telegram_bound_on_commit(*, user_id: int, username: str) -> None:
    data = {"username": username}
    transaction.on_commit(lambda: broadcast(user_id=user_id, type=TELEGRAM_BOUND, data=data))


def telegram_unbound_on_commit(*, user_id: int) -> None:
    transaction.on_commit(lambda: broadcast(user_id=user_id, type=TELEGRAM_UNBOUND, data={}))


def poke_bot() -> None:
    """Tell the bot the outbox has work. Best effort: the bot also polls the outbox."""
    try:
        async_to_sync(get_channel_layer().send)(BOT_CHANNEL, {"type": OUTBOX_READY})
    except Exception:  # the outbox row is durable; the bot's poll will find it
        import logging

        logging.getLogger(__name__).warning("could not poke the bot; it will poll")


def poke_bot_on_commit() -> None:
    transaction.on_commit(poke_bot)
