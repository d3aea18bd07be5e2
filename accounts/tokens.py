"""JWT encoding and decoding: HS256 pinned, typed tokens, a per-user version claim."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from django.conf import settings
from django.utils import timezone

from config.errors import Unauthorized

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


def decode(token: str, *, expected: TokenType) -> Claims:
    """The token's claims, or `Unauthorized` for anything forged, expired or of the wrong type."""
    try:
        payload = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[ALGORITHM],
            leeway=settings.JWT_LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
        if payload["type"] != expected:
            raise Unauthorized(f"Expected an {expected} token.")
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
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise Unauthorized("Token is invalid or expired.") from exc
