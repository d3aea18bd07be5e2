"""Every open socket of this process checked and renewed together, once a period: one task an
event loop, not one a socket.

Each socket must learn when Redis no longer holds its group membership (restarted empty,
flushed, failed over: no event would reach it, so it closes and the client reconnects) and
must renew its place among its user's sockets (core/presence.py), every
`WS_LAYER_CHECK_SECONDS`. Done by each socket for itself, that was three Redis round trips a
socket a period: 6,000 a second with 10,000 sockets open, and their frames waited behind them
(docs/PERFORMANCE.md, "10,000 sockets, round two"). Here a process reads the epoch once per
channel-layer shard its sockets use, and renews all its leases in one script call a batch:
a handful of round trips a period, whatever the number of sockets.

A socket whose shard's epoch changed, or all of them when Redis does not answer, are closed
with 1013 (try again later), as each socket did alone before.
"""

import asyncio
import logging
import uuid
import weakref
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from channels_redis.core import RedisChannelLayer
from django.conf import settings
from redis import RedisError

from core import presence
from core.redis import key

logger = logging.getLogger(__name__)

LAYER_TROUBLE = (RedisError, OSError)
# Redis keeps this token as long as it keeps the layer's group memberships.
EPOCH = ("ws", "epoch")  # its name's parts: core.redis.key names it in the namespace


class Beating(Protocol):
    """What the heartbeat needs of a socket (realtime/consumers.py `LiveConsumer`)."""

    channel_name: str
    group: str
    epoch: bytes | None
    channel_layer: RedisChannelLayer

    def beating_user(self) -> int | None: ...

    async def lost_redis(self, reason: str) -> None: ...


async def layer_epoch(layer: RedisChannelLayer, group: str) -> bytes:
    """The token of the shard holding `group`, made if it has none (Redis restarted empty)."""
    redis = layer.connection(layer.consistent_hash(group))
    await redis.set(key(*EPOCH), uuid.uuid4().hex, nx=True)
    return await redis.get(key(*EPOCH))


class Heartbeat:
    """The sockets of one event loop, beaten together while any is open."""

    def __init__(self) -> None:
        self.sockets: dict[str, Beating] = {}
        self.task: asyncio.Task | None = None

    def join(self, socket: Beating) -> None:
        self.sockets[socket.channel_name] = socket
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())

    def leave(self, socket: Beating) -> None:
        self.sockets.pop(socket.channel_name, None)
        if not self.sockets and self.task is not None:
            self.task.cancel()  # nothing to beat: no task left behind on an idle loop
            self.task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(settings.WS_LAYER_CHECK_SECONDS)
            try:
                await self.beat()
            except Exception:  # the next period tries again; a socket is never left unchecked
                logger.exception("live sockets' heartbeat failed")

    async def beat(self) -> None:
        """Check the epochs, close the sockets that lost theirs, renew the others' leases."""
        alive = await self._epochs_kept(list(self.sockets.values()))
        leases = [(user, socket.channel_name) for socket in alive
                  if (user := socket.beating_user()) is not None]  # fmt: skip
        try:
            await presence.asockets_alive(leases)
        except LAYER_TROUBLE:
            await _close_all(alive, "live socket closed: Redis does not answer")

    async def _epochs_kept(self, sockets: Sequence[Beating]) -> list[Beating]:
        by_shard: dict[int, list[Beating]] = defaultdict(list)
        for socket in sockets:
            layer = socket.channel_layer
            by_shard[layer.consistent_hash(socket.group)].append(socket)
        kept: list[Beating] = []
        for members in by_shard.values():
            try:
                epoch = await layer_epoch(members[0].channel_layer, members[0].group)
            except LAYER_TROUBLE:
                await _close_all(members, "live socket closed: Redis does not answer")
                continue
            lost = [socket for socket in members if socket.epoch != epoch]
            await _close_all(lost, "live socket closed: Redis lost its group memberships")
            kept += [socket for socket in members if socket.epoch == epoch]
        return kept


async def _close_all(sockets: Sequence[Beating], reason: str) -> None:
    if sockets:
        logger.info("%s (%d socket(s))", reason, len(sockets))
    for socket in sockets:
        try:
            await socket.lost_redis(reason)
        except Exception:  # one socket's failure leaves the others to be closed
            logger.exception("live socket %s could not be closed", socket.channel_name)


_beats: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Heartbeat]" = (
    weakref.WeakKeyDictionary()
)


def heartbeat() -> Heartbeat:
    """This event loop's heartbeat."""
    loop = asyncio.get_running_loop()
    if loop not in _beats:
        _beats[loop] = Heartbeat()
    return _beats[loop]
