"""Bearer authentication for the API: a valid access token of an active user, current version."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from accounts import tokens
from accounts.models import User
from accounts.token_state import TokenState, token_state, user_from_state
from config.errors import Unauthorized


def admitted_access_claims(token: str) -> tuple[tokens.Claims, TokenState] | None:
    """The claims of a valid access token whose user still admits it, with that user's
    state; None when the token is bad, expired, revoked or not an access one.

    The version and activity come from the token-state cache (no query when cached).
    """
    try:
        claims = tokens.decode(token, expected="access")
    except Unauthorized:
        return None
    state = token_state(claims.user_id)
    if state is None or not state.admits(claims.version):
        return None
    return claims, state


def user_for_access_token(token: str) -> User | None:
    """The token's user (id, version, activity and timezone; the rest loads when read)."""
    admitted = admitted_access_claims(token)
    if admitted is None:
        return None
    claims, state = admitted
    return user_from_state(claims.user_id, state)


class JWTAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_access_token(token)
        if user is not None:
            request.user = user
        return user


class AuthedRequest(HttpRequest):
    """What a handler behind `JWTAuth` receives: `auth` is the signed-in user."""

    auth: User
