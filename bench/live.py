"""Users with a socket open, as the realtime consumer would register them.

Each user gets a presence count and one channel in their group, so the events of a sweep
really go through the channel layer into a channel's queue (kept 60 s, then expired).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core import presence
from realtime.groups import user_group


def _channel(user_id: int) -> str:
    return f"bench.socket{user_id}"


async def _join(user_ids: Sequence[int]) -> None:
    layer = get_channel_layer()
    for user_id in user_ids:
        await layer.group_add(user_group(user_id), _channel(user_id))


async def _leave(user_ids: Sequence[int]) -> None:
    layer = get_channel_layer()
    for user_id in user_ids:
        await layer.group_discard(user_group(user_id), _channel(user_id))


@contextmanager
def online(user_ids: Sequence[int]) -> Iterator[None]:
    """`user_ids` online for the duration: one open socket each."""
    for user_id in user_ids:
        presence.socket_opened(user_id, _channel(user_id))
    async_to_sync(_join)(user_ids)
    try:
        yield
    finally:
        async_to_sync(_leave)(user_ids)
        for user_id in user_ids:
            presence.socket_closed(user_id, _channel(user_id))
