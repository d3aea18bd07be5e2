"""Sending events to a user's sockets through the channel layer, from any process."""

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime.groups import user_group

logger = logging.getLogger(__name__)

# The consumer methods that turn channel-layer messages into frames (`type` routes to them).
FORWARD = "event.forward"
FORWARD_MANY = "event.forward_many"


def _message(events: list[dict[str, Any]]) -> dict[str, Any]:
    if len(events) == 1:
        return {"type": FORWARD, "event": events[0]}
    return {"type": FORWARD_MANY, "events": events}


async def _send_all(messages: dict[int, dict[str, Any]]) -> None:
    layer = get_channel_layer()
    sends = [
        layer.group_send(user_group(user_id), message) for user_id, message in messages.items()
    ]
    for user_id, outcome in zip(
        messages, await asyncio.gather(*sends, return_exceptions=True), strict=True
    ):
        if isinstance(outcome, Exception):
            logger.error("could not send events to user %s: %r", user_id, outcome)


def _send(messages: dict[int, dict[str, Any]]) -> None:
    # Runs after commit: the change is durable, so a channel-layer failure is logged
    # rather than turned into an error for whoever made the change.
    if not messages:
        return
    try:
        async_to_sync(_send_all)(messages)
    except Exception:
        logger.exception("could not send events to %d user(s)", len(messages))


def broadcast_batch(events_by_user: dict[int, list[dict[str, Any]]]) -> None:
    """Each user's frames in one channel-layer message; every user's from one event loop."""
    _send({user_id: _message(events) for user_id, events in events_by_user.items() if events})


def broadcast(*, user_id: int, type: str, data: Any) -> None:
    """One `{"type", "data"}` frame to every socket of the user."""
    broadcast_batch({user_id: [{"type": type, "data": data}]})


def broadcast_many(*, user_id: int, type: str, items: list[Any]) -> None:
    """One frame per item, all of one type, in a single channel-layer message."""
    broadcast_batch({user_id: [{"type": type, "data": item} for item in items]})


def revoke_sessions(*, user_id: int, version: int) -> None:
    """Close the user's sockets opened with a token older than `version`."""
    _send({user_id: {"type": "session.revoke", "version": version}})
