"""Each user's token state in Redis, so authenticating a request costs no database query.

Every authenticated request must know that its user is active and that the token's `ver` is
the user's current token version (SPEC §3: logout-all, a password change or deactivation end
every earlier token at once). That state, with the user's timezone (`today` and the socket's
snapshot need it), is cached under `aht:<namespace>:near:auth:<user_id>` for `TTL_SECONDS`
(config/redis.py names every key), and each
process keeps what it read in memory while Redis reports no change (config/near_cache.py).

Never stale after a commit: a change forgets the entry and bumps `...:auth_version:<id>`
after its commit (and once before, so the same transaction, or a test that never commits,
reads the change too). A request that missed stores what it read from the database only if
the version is still the one it saw before reading (`STORE_IF_VERSION`), so a read that
began before a logout-all committed can never put the old version back.

Bounds: a change made through accounts.services or the admin holds at once in every process
(from memory, within near_cache.LIVENESS_SECONDS when a process cannot hear Redis). A row
changed behind their back (an UPDATE in psql) holds within `TTL_SECONDS` (plus, at worst,
near_cache.SECONDS when Redis is late to expire the entry). Redis away: every request
reads the database, as before the cache.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import redis
from django.db import DEFAULT_DB_ALIAS

from accounts.models import User
from config.near_cache import mget_near, near_forget, near_key
from config.redis import STORE_IF_VERSION, get_redis, key

logger = logging.getLogger(__name__)

TTL_SECONDS = 60
# Longer than any read between a miss and its store, so a version is never lost under one.
VERSION_TTL_SECONDS = 24 * 3600
FIELDS = ("token_version", "is_active", "timezone")
# Keys read with the token state: the values of those read (a key left out was not: the
# answer came from memory, see mget_near), or False when Redis did not answer.
Prefetched = dict[str, bytes | None] | Literal[False]
# The user's loaded fields in model order (`Model.from_db` wants them so).
_LOADED = [f.attname for f in User._meta.concrete_fields if f.attname in {"id", *FIELDS}]


@dataclass(frozen=True)
class TokenState:
    token_version: int
    is_active: bool
    timezone: str

    def admits(self, version: int) -> bool:
        """A token carrying `version` is still good: current version, active user."""
        return self.is_active and self.token_version == version

    def encode(self) -> str:
        return f"{self.token_version}|{int(self.is_active)}|{self.timezone}"

    @classmethod
    def decode(cls, raw: bytes) -> "TokenState":
        version, active, timezone = raw.decode().split("|", 2)
        return cls(int(version), active == "1", timezone)


def _key(user_id: int) -> str:
    return near_key("auth", user_id)


def _version_key(user_id: int) -> str:
    return key("auth_version", user_id)


def _from_db(user_id: int) -> TokenState | None:
    row = User.objects.filter(pk=user_id).values_list(*FIELDS).first()
    return TokenState(*row) if row else None


def _store(client: redis.Redis, user_id: int, state: TokenState, seen: bytes | None) -> None:
    keys = [_key(user_id), _version_key(user_id)]
    args = [state.encode(), (seen or b"").decode(), TTL_SECONDS]
    client.eval(STORE_IF_VERSION, 2, *keys, *args)


def token_state(user_id: int) -> TokenState | None:
    """The user's current token state (None: no such user): Redis first, else the database."""
    return token_state_with(user_id, ())[0]


def token_state_with(user_id: int, keys: Sequence[str]) -> tuple[TokenState | None, Prefetched]:
    """The user's token state, and the values of `keys` read in the same Redis round trip
    (so a view's own cache entry costs the request no second one) or from memory with it;
    False for those when Redis does not answer (so the view does not wait on it again)."""
    try:
        client = get_redis()
        found = mget_near(client, [_key(user_id), _version_key(user_id), *keys])
    except redis.RedisError:
        return _from_db(user_id), False
    fetched = {key: found[key] for key in keys if key in found}
    if (cached := found[_key(user_id)]) is not None:
        return TokenState.decode(cached), fetched
    state = _from_db(user_id)
    if state is not None:
        try:
            # A miss came from Redis, so the version seen before reading the database is here.
            _store(client, user_id, state, found[_version_key(user_id)])
        except redis.RedisError:
            logger.warning("token state of user %s not cached: Redis does not answer", user_id)
    return state, fetched


def token_state_forget(user_id: int) -> None:
    """Drop the cached state and bump its version: the next request reads the database."""
    try:
        with get_redis().pipeline(transaction=True) as pipe:
            pipe.incr(_version_key(user_id))
            pipe.expire(_version_key(user_id), VERSION_TTL_SECONDS)
            pipe.delete(_key(user_id))
            pipe.execute()
    except redis.RedisError:
        # The entry may then outlive the change by up to TTL_SECONDS: say so loudly.
        logger.error("token state of user %s not forgotten: Redis does not answer", user_id)
    finally:
        near_forget([_key(user_id)])


def user_from_state(user_id: int, state: TokenState) -> User:
    """The user with only the cached fields loaded; reading any other loads the rest at once."""
    known = {"id": user_id, **{name: getattr(state, name) for name in FIELDS}}
    return User.from_db(DEFAULT_DB_ALIAS, _LOADED, [known[name] for name in _LOADED])
