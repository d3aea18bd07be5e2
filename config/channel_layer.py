"""The channel layer: channels_redis's, under this installation's Redis namespace."""

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
