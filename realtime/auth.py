"""Who is on the socket: the access token from the `bearer` subprotocol pair (SPEC §4)."""

from dataclasses import dataclass
from datetime import datetime

from channels.db import database_sync_to_async

from accounts import tokens
from accounts.token_state import token_state
from config.errors import Unauthorized

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
    try:
        claims = tokens.decode(token, expected="access")
    except Unauthorized:
        return None
    state = token_state(claims.user_id)
    if state is None or not state.admits(claims.version):
        return None
    return SocketIdentity(claims.user_id, claims.version, claims.expires_at)


identify = database_sync_to_async(_identify)
