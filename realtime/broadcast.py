"""Sending events to a user's sockets through the channel layer, from any process."""

import asyncio
import logging
import os
import threading
from typing import Any

import redis
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


async def _send_each(messages: dict[int, dict[str, Any]]) -> dict[int, BaseException]:
    """Send every user's message at once; the failures, by user."""
    layer = get_channel_layer()
    sends = [
        layer.group_send(user_group(user_id), message) for user_id, message in messages.items()
    ]
    outcomes = await asyncio.gather(*sends, return_exceptions=True)
    return {
        user_id: outcome
        for user_id, outcome in zip(messages, outcomes, strict=True)
        if isinstance(outcome, BaseException)
    }


async def _send_all(messages: dict[int, dict[str, Any]]) -> None:
    failed = await _send_each(messages)
    # A pooled connection Redis dropped (a restart) fails its first command before the pool
    # notices; it was not sent, so one more try on a fresh connection loses nothing.
    again = {u: messages[u] for u, e in failed.items() if isinstance(e, redis.ConnectionError)}
    if again:
        failed = {u: e for u, e in failed.items() if u not in again} | await _send_each(again)
    for user_id, error in failed.items():
        logger.error("could not send events to user %s: %r", user_id, error)


# Every send from sync code (a web request's on-commit, a task, the bot) runs on one event
# loop per process, in a thread of its own, reusing its Redis connections. async_to_sync
# would start a loop, a thread and a Redis connection for each call: about 4 ms a send.
SEND_TIMEOUT_SECONDS = 10.0
_loop_lock = threading.Lock()
_loop: tuple[int, asyncio.AbstractEventLoop] | None = None


def _sending_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        # Keyed by pid: a forked child (a Celery worker) must not use its parent's loop,
        # whose thread did not come along.
        if _loop is None or _loop[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="channel-sends", daemon=True).start()
            _loop = (os.getpid(), loop)
        return _loop[1]


def _send(messages: dict[int, dict[str, Any]]) -> None:
    # Runs after commit: the change is durable, so a channel-layer failure is logged
    # rather than turned into an error for whoever made the change.
    if not messages:
        return
    try:
        sending = asyncio.run_coroutine_threadsafe(_send_all(messages), _sending_loop())
        sending.result(timeout=SEND_TIMEOUT_SECONDS)
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


def revoke_token_sessions(*, user_id: int, token_id: int) -> None:
    """Close the user's sockets opened with the personal token `token_id` (revoked)."""
    _send({user_id: {"type": "session.revoke_token", "token_id": token_id}})
