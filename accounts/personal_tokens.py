"""Personal access tokens (SPEC §10): the secret, its hash, the scopes, and each live token's
state in Redis so that admitting a request costs no query.

A secret is `aht_` + 32 random bytes (256 bits, URL-safe base64). Only its SHA-256 is stored:
a secret that cannot be guessed needs no slow hash (docs/DECISIONS.md, "Personal tokens").

The state of a live token (`PERSONAL_TOKENS`, a versioned cache declared `near`, as the
login tokens' TOKEN_STATES) is keyed by a number taken from the hash; the entry holds the
whole hash and is compared to the presented one in constant time, so two hashes sharing a
key are only a miss. Revoking forgets the entry after the commit (config/reactions.py), and
the near cache hears of it in every process (core/near_cache.py): a revoked token fails at
once everywhere. A revoked or unknown token is never cached: it is read from the database.
"""

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import redis
from django.utils import timezone

from accounts.models import PersonalToken
from core.versioned_cache import VersionedCache

PREFIX = "aht_"
SECRET_BYTES = 32  # 256 random bits; SPEC §10 asks for at least 160
DISPLAY_CHARS = 8  # of the secret, shown in the list: `aht_Ab3dE…`
MAX_PER_USER = 50
TTL_SECONDS = 60
PERSONAL_TOKENS = VersionedCache("pat", TTL_SECONDS, near=True)
# How long a socket opened with a token that never expires may stay (it must sleep for a
# finite time); the socket's other reasons to close still hold meanwhile.
SOCKET_LIFETIME = timedelta(days=30)


class Scope(StrEnum):
    READ = "read"
    COMPLETE = "complete"
    WRITE = "write"


# What a token holding a scope may do: each admits the ones before it.
IMPLIED: dict[Scope, frozenset[Scope]] = {
    Scope.READ: frozenset({Scope.READ}),
    Scope.COMPLETE: frozenset({Scope.READ, Scope.COMPLETE}),
    Scope.WRITE: frozenset(Scope),
}


KNOWN = frozenset(scope.value for scope in Scope)


def effective_scopes(scopes: list[str]) -> frozenset[Scope]:
    """What the stored scopes admit, each with the ones it implies."""
    return frozenset().union(*(IMPLIED[Scope(s)] for s in scopes if s in KNOWN))


def is_personal(token: str) -> bool:
    return token.startswith(PREFIX)


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def cache_id(token_hash: str) -> int:
    """The cache's key for a token: 60 bits of its hash (the entry holds the whole hash)."""
    return int(token_hash[:15], 16)


@dataclass(frozen=True)
class PersonalTokenState:
    token_id: int
    user_id: int
    token_hash: str
    token_version: int
    scopes: frozenset[Scope]
    expires_at: datetime | None

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at

    def socket_expiry(self, now: datetime) -> datetime:
        cap = now + SOCKET_LIFETIME
        return cap if self.expires_at is None else min(self.expires_at, cap)

    def encode(self) -> str:
        expires = "" if self.expires_at is None else str(self.expires_at.timestamp())
        scopes = ",".join(sorted(self.scopes))
        fields = (self.token_id, self.user_id, self.token_hash, self.token_version, scopes, expires)
        return "|".join(map(str, fields))

    @classmethod
    def decode(cls, raw: bytes) -> "PersonalTokenState":
        token_id, user_id, token_hash, version, scopes, expires = raw.decode().split("|")
        return cls(
            token_id=int(token_id),
            user_id=int(user_id),
            token_hash=token_hash,
            token_version=int(version),
            scopes=frozenset(Scope(s) for s in scopes.split(",") if s),
            expires_at=datetime.fromtimestamp(float(expires), tz=UTC) if expires else None,
        )


def _from_db(token_hash: str) -> PersonalTokenState | None:
    row = (
        PersonalToken.objects.filter(token_hash=token_hash, revoked_at__isnull=True)
        .values_list("pk", "user_id", "token_hash", "token_version", "scopes", "expires_at")
        .first()
    )
    if row is None:
        return None
    token_id, user_id, stored_hash, version, scopes, expires_at = row
    return PersonalTokenState(
        token_id, user_id, stored_hash, version, effective_scopes(scopes), expires_at
    )


def personal_token_state(secret: str) -> PersonalTokenState | None:
    """The state of the live (unrevoked) token whose secret this is, else None; expiry is
    the caller's to check. Redis (or memory) first, else the database."""
    token_hash = hash_secret(secret)
    key = cache_id(token_hash)
    try:
        state = PERSONAL_TOKENS.get(
            key,
            lambda: _from_db(token_hash),
            PersonalTokenState.encode,
            PersonalTokenState.decode,
        )
    except redis.RedisError:  # `get` answers from the database itself; belt and braces
        state = _from_db(token_hash)
    # Constant time: how much of the hash matched is not told by when the answer comes.
    if state is None or not hmac.compare_digest(state.token_hash, token_hash):
        return None
    return state


def personal_token_forget(token_hash: str) -> None:
    """Drop the token's cached state in every process: the next request reads the row."""
    PERSONAL_TOKENS.forget([cache_id(token_hash)])


# --- last_used_at, to the minute -------------------------------------------------------------
# Each process remembers the minute it last wrote for each token, so a token used a thousand
# times a minute costs one conditional UPDATE a minute per process, and the UPDATE's own
# condition keeps it to one written row a minute whatever the number of processes.
_TOUCHED_MAX = 4096
_touched: OrderedDict[int, datetime] = OrderedDict()


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def personal_token_touch(token_id: int, at: datetime | None = None) -> bool:
    """Record a use at `at`'s minute, unless this process already did; True if it wrote."""
    minute = minute_of(at or timezone.now())
    if _touched.get(token_id) == minute:
        return False
    _touched[token_id] = minute
    _touched.move_to_end(token_id)
    while len(_touched) > _TOUCHED_MAX:
        _touched.popitem(last=False)
    written = (
        PersonalToken.objects.filter(pk=token_id)
        .exclude(last_used_at__gte=minute)
        .update(last_used_at=minute)
    )
    return bool(written)
