"""The channel layer: channels_redis's, under this installation's Redis namespace.

Over one Redis server (REDIS_URL) by default, or sharded over CHANNEL_REDIS_URLS: then
channels_redis itself picks each name's server with its consistent hash (`consistent_hash`,
a CRC32 of the name over the ring of hosts): a group's membership lives on the server of
its name (`user.<id>`), a web process's inbox on the server of its `specific.<prefix>!`
name. Nothing here changes that mapping; docs/DECISIONS.md ("A sharded channel layer") says
what the loss of one server does.
"""

from typing import Any

from channels_redis.core import RedisChannelLayer

from core.redis import key_prefix


class NamespacedRedisChannelLayer(RedisChannelLayer):
    """Its channels (`<prefix>specific...`) and groups (`<prefix>:group:user.1`) live under
    `aht:<namespace>:ws:`, so a socket of one installation never hears another's events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Built on first use of the layer in a process (core.redis.namespace is lazy), not
        # when settings load.
        kwargs["prefix"] = key_prefix("ws")
        super().__init__(*args, **kwargs)
