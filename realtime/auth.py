"""Who is on the socket: the access token from the `bearer` subprotocol pair (SPEC §4)."""

from dataclasses import dataclass
from datetime import datetime

from channels.db import database_sync_to_async

from accounts.auth import admitted_access_claims

SUBPROTOCOL = "bearer"


@dataclass(frozen=True)
class SocketIdentity:
    user_id: int
    token_version: int
    expires_at: datetime


def token_from_subprotocols(subprotocols: list[str]) -> str | None:
    """`Sec-WebSocket-Protocol: bearer, <access>` arrives as ["bearer", "<access>"]."""
    if len(subprotocols) == 2 and subprotocols[0] == SUBPROTOCOL:
        return subprotocols[1]
    return None


def _identify(token: str) -> SocketIdentity | None:
    admitted = admitted_access_claims(token)  # the same rule as the REST API's
    if admitted is None:
        return None
    claims, _, _ = admitted
    return SocketIdentity(claims.user_id, claims.version, claims.expires_at)


identify = database_sync_to_async(_identify)
