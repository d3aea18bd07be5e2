"""Who is on the socket: the bearer token from the `bearer` subprotocol pair (SPEC §4): a
login access token, or a personal token (any scope includes `read`, which the socket needs)."""

from dataclasses import dataclass
from datetime import datetime

from channels.db import database_sync_to_async

from accounts.auth import admitted
from accounts.personal_tokens import Scope

SUBPROTOCOL = "bearer"


@dataclass(frozen=True)
class SocketIdentity:
    user_id: int
    token_version: int
    expires_at: datetime
    personal_token_id: int | None = None  # opened with a personal token: which


def token_from_subprotocols(subprotocols: list[str]) -> str | None:
    """`Sec-WebSocket-Protocol: bearer, <access>` arrives as ["bearer", "<access>"]."""
    if len(subprotocols) == 2 and subprotocols[0] == SUBPROTOCOL:
        return subprotocols[1]
    return None


def _identify(token: str) -> SocketIdentity | None:
    admission = admitted(token)  # the same rule as the REST API's
    if admission is None or not admission.may(Scope.READ):
        return None
    return SocketIdentity(
        admission.user_id,
        admission.token_version,
        admission.expires_at,
        admission.personal_token_id,
    )


identify = database_sync_to_async(_identify)
