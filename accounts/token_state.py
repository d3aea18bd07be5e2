"""Each user's token state in Redis, so authenticating a request costs no database query.

Every authenticated request must know that its user is active and that the token's `ver` is
the user's current token version (SPEC §3: logout-all, a password change or deactivation end
every earlier token at once). That state, with the user's timezone (`today` and the socket's
snapshot need it), is the versioned cache `TOKEN_STATES` (core/versioned_cache.py):
`aht:<namespace>:near:auth:<user_id>` for `TTL_SECONDS`, declared `near`, so each process
keeps what it read in memory while Redis reports no change (core/near_cache.py).

Never stale after a commit: a change forgets the entry and bumps `...:auth_version:<id>`
after its commit (and once before, so the same transaction, or a test that never commits,
reads the change too). A request that missed stores what it read from the database only if
the version is still the one it saw before reading (the helper's rule), so a read that
began before a logout-all committed can never put the old version back.

Bounds: a change made through accounts.services or the admin holds at once in every process
(from memory, within near_cache.LIVENESS_SECONDS when a process cannot hear Redis). A row
changed behind their back (an UPDATE in psql) holds within `TTL_SECONDS` (plus, at worst,
near_cache.SECONDS when Redis is late to expire the entry). Redis away: every request
reads the database, as before the cache.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import redis
from django.db import DEFAULT_DB_ALIAS

from accounts.models import User
from core.versioned_cache import Prefetched, VersionedCache

__all__ = ["Prefetched"]  # where accounts.auth and instances.today_cache take it from

TTL_SECONDS = 60
TOKEN_STATES = VersionedCache("auth", TTL_SECONDS, near=True)
FIELDS = ("token_version", "is_active", "timezone")
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


def _from_db(user_id: int) -> TokenState | None:
    row = User.objects.filter(pk=user_id).values_list(*FIELDS).first()
    return TokenState(*row) if row else None


def token_state(user_id: int) -> TokenState | None:
    """The user's current token state (None: no such user): Redis first, else the database."""
    return token_state_with(user_id, ())[0]


def token_state_with(user_id: int, keys: Sequence[str]) -> tuple[TokenState | None, Prefetched]:
    """The user's token state, and the values of `keys` read in the same Redis round trip
    (so a view's own cache entry costs the request no second one) or from memory with it;
    False for those when Redis does not answer (so the view does not wait on it again)."""
    try:
        found = TOKEN_STATES.read(user_id, also=keys)
    except redis.RedisError:
        return _from_db(user_id), False
    state = TOKEN_STATES.get(
        user_id, lambda: _from_db(user_id), TokenState.encode, TokenState.decode, found
    )
    return state, {key: found[key] for key in keys if key in found}


def token_state_forget(user_id: int) -> None:
    """Drop the cached state and bump its version: the next request reads the database."""
    TOKEN_STATES.forget([user_id])


def user_from_state(user_id: int, state: TokenState) -> User:
    """The user with only the cached fields loaded; reading any other loads the rest at once."""
    known = {"id": user_id, **{name: getattr(state, name) for name in FIELDS}}
    return User.from_db(DEFAULT_DB_ALIAS, _LOADED, [known[name] for name in _LOADED])
