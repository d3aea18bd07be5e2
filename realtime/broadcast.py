"""Sending events to a user's sockets through the channel layer, from any process."""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime.groups import user_group

logger = logging.getLogger(__name__)

# The consumer methods that turn channel-layer messages into frames (`type` routes to them).
FORWARD = "event.forward"
FORWARD_MANY = "event.forward_many"


def _group_send(user_id: int, message: dict[str, Any], what: str) -> None:
    # Runs after commit: the change is durable, so a channel-layer failure is logged
    # rather than turned into an error for whoever made the change.
    try:
        async_to_sync(get_channel_layer().group_send)(user_group(user_id), message)
    except Exception:
        logger.exception("could not send %s to user %s", what, user_id)


def broadcast(*, user_id: int, type: str, data: Any) -> None:
    """One `{"type", "data"}` frame to every socket of the user."""
    _group_send(user_id, {"type": FORWARD, "event": {"type": type, "data": data}}, type)


def broadcast_many(*, user_id: int, type: str, items: list[Any]) -> None:
    """One frame per item, all of one type, in a single channel-layer message."""
    if len(items) == 1:
        broadcast(user_id=user_id, type=type, data=items[0])
        return
    message = {"type": FORWARD_MANY, "events": [{"type": type, "data": item} for item in items]}
    _group_send(user_id, message, type)


def revoke_sessions(*, user_id: int, version: int) -> None:
    """Close the user's sockets opened with a token older than `version`."""
    _group_send(user_id, {"type": "session.revoke", "version": version}, "session.revoke")
