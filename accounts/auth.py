"""Bearer authentication for the API: a valid access token of an active user, current version."""

from collections.abc import Callable, Sequence

from django.http import HttpRequest
from ninja.security import HttpBearer

from accounts import tokens
from accounts.models import User
from accounts.token_state import Prefetched, TokenState, token_state_with, user_from_state
from core.errors import Unauthorized

# A view's own Redis keys for the signed-in user, read with the token state (JWTAuth below).
# When the state comes from memory (core/near_cache.py), only the entries of caches
# declared `near` (core/versioned_cache.py) come with it: the view reads a key that is not
# in `request.prefetched` itself.
Prefetch = Callable[[int], Sequence[str]]


def admitted_access_claims(
    token: str, prefetch: Prefetch | None = None
) -> tuple[tokens.Claims, TokenState, Prefetched] | None:
    """The claims of a valid access token whose user still admits it, with that user's
    state and the values of the `prefetch` keys; None when the token is bad, expired,
    revoked or not an access one.

    The version and activity come from the token-state cache (no query when cached).
    """
    try:
        claims = tokens.decode(token, expected="access")
    except Unauthorized:
        return None
    keys = prefetch(claims.user_id) if prefetch else ()
    state, fetched = token_state_with(claims.user_id, keys)
    if state is None or not state.admits(claims.version):
        return None
    return claims, state, fetched


class JWTAuth(HttpBearer):
    """`request.auth` is the token's user (id, version, activity and timezone loaded; the rest
    loads when read). With `prefetch`, `request.prefetched` holds those keys' values, read in
    the token state's round trip or from memory with it (False when Redis did not answer)."""

    def __init__(self, prefetch: Prefetch | None = None) -> None:
        super().__init__()
        self.prefetch = prefetch

    def __call__(self, request: HttpRequest) -> User | None:
        # Ninja's own HttpBearer writes a whole non-Bearer Authorization header (a Basic
        # password, someone's token) to the log under DEBUG; nothing of it may be logged.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        admitted = admitted_access_claims(token, self.prefetch)
        if admitted is None:
            return None
        claims, state, request.prefetched = admitted
        request.user = user_from_state(claims.user_id, state)
        return request.user


class AuthedRequest(HttpRequest):
    """What a handler behind `JWTAuth` receives: `auth` is the signed-in user."""

    auth: User
    prefetched: Prefetched
