"""JWT encoding and decoding: HS256 pinned, typed tokens, a per-user version claim."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal

import jwt
from django.conf import settings
from django.utils import timezone

from core.errors import Unauthorized

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "type", "ver"]


@dataclass(frozen=True)
class Claims:
    user_id: int
    jti: uuid.UUID
    type: TokenType
    version: int
    issued_at: datetime
    expires_at: datetime
    family: uuid.UUID | None = None


def encode(
    *,
    user_id: int,
    type: TokenType,
    version: int,
    ttl: timedelta,
    jti: uuid.UUID,
    family: uuid.UUID | None = None,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    issued = now or timezone.now()
    expires = issued + ttl
    payload = {
        "sub": str(user_id),
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": str(jti),
        "type": type,
        "ver": version,
    }
    if family is not None:
        payload["fam"] = str(family)
    return jwt.encode(payload, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM), expires


# Verifying a token is the dearest step of an authenticated request (~0.1 ms of PyJWT), and a
# client sends the same access token with each request for its whole life. So each process
# remembers the claims of the tokens it verified lately: the same signed text under the same
# key always verifies to the same claims. Only the clock moves, so expiry is checked on every
# use; revocation is the token state's business (accounts/token_state.py), never this cache's.
VERIFIED_TOKENS = 4096


def decode(token: str, *, expected: TokenType) -> Claims:
    """The token's claims, or `Unauthorized` for anything forged, expired or of the wrong type."""
    claims = _verified(token, settings.JWT_SIGNING_KEY, settings.JWT_LEEWAY_SECONDS)
    leeway = timedelta(seconds=settings.JWT_LEEWAY_SECONDS)
    # Subtracted from now, not added to the expiry: an expiry at the end of year 9999 must
    # not overflow into a 500.
    if claims.expires_at <= timezone.now() - leeway:
        raise Unauthorized("Token is invalid or expired.")
    if claims.type != expected:
        article = "an" if expected == "access" else "a"
        raise Unauthorized(f"Expected {article} {expected} token.")
    return claims


@lru_cache(maxsize=VERIFIED_TOKENS)
def _verified(token: str, key: str, leeway: int) -> Claims:
    """The claims of a token signed with `key` and unexpired when first seen (not cached when
    it fails: a bad token costs a full check each time)."""
    try:
        payload = jwt.decode(
            token, key, algorithms=[ALGORITHM], leeway=leeway, options={"require": REQUIRED_CLAIMS}
        )
        family = payload.get("fam")
        return Claims(
            user_id=int(payload["sub"]),
            jti=uuid.UUID(payload["jti"]),
            type=payload["type"],
            version=int(payload["ver"]),
            issued_at=datetime.fromtimestamp(payload["iat"], tz=UTC),
            expires_at=datetime.fromtimestamp(payload["exp"], tz=UTC),
            family=uuid.UUID(family) if family else None,
        )
    # OverflowError: a well-signed `exp` too far out for a datetime (1e20) is no token of
    # ours either, and must be a 401 rather than a 500.
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError) as exc:
        raise Unauthorized("Token is invalid or expired.") from exc
