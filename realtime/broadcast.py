"""Sending events to a user's sockets through the channel layer, from any process."""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime.groups import user_group

logger = logging.getLogger(__name__)

# The consumer method that forwards an event as a frame (`type` routes to it).
FORWARD = "event.forward"


def broadcast(*, user_id: int, type: str, data: Any) -> None:
    """Send one `{"type", "data"}` frame to every socket of the user.

    Runs after commit; the change it reports is already durable, so a channel-layer
    failure is logged rather than turned into an error for the caller.
    """
    layer = get_channel_layer()
    message = {"type": FORWARD, "event": {"type": type, "data": data}}
    try:
        async_to_sync(layer.group_send)(user_group(user_id), message)
    except Exception:
        logger.exception("could not send %s to user %s", type, user_id)
