"""Bearer authentication for the API and the socket: the one rule that admits a request.

Two kinds of bearer token: a login access token (a JWT, SPEC §3) and a personal access token
(`aht_…`, SPEC §10). `admitted` decides for both who the caller is and what they may do; its
checks of the user (active, current token version: logout-all, a password change and
deactivation end both kinds) are the same for both, from the token-state cache.

What an operation admits is declared where the operation is (`JWTAuth(scope=...)`, on the
router or the operation) and checked here, in `JWTAuth.authenticate`. Default deny: an
operation that declares no scope takes only a login token, so a personal token on a new
endpoint is refused until someone decides it may go there (tests/accounts/
test_personal_token_scopes.py walks every operation of the schema).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from accounts import personal_tokens, tokens
from accounts.models import User
from accounts.personal_tokens import Scope
from accounts.token_state import Prefetched, TokenState, token_state_with, user_from_state
from core.errors import Forbidden, Unauthorized

# A view's own Redis keys for the signed-in user, read with the token state (JWTAuth below).
# When the state comes from memory (core/near_cache.py), only the entries of caches
# declared `near` (core/versioned_cache.py) come with it: the view reads a key that is not
# in `request.prefetched` itself. Given the user's id and the request (a page's query, an id
# in the path: not yet validated, so a key it names is only a guess the view checks).
Prefetch = Callable[[int, HttpRequest], Sequence[str]]

# A scope rule for a whole router: GET (and HEAD) need `read`, anything else `write`.
BY_METHOD: Literal["by-method"] = "by-method"
ScopeRule = Scope | Literal["by-method"] | None
READ_METHODS = frozenset({"GET", "HEAD"})

LOGIN_ONLY = "This operation takes a login access token; personal tokens are refused here."


@dataclass(frozen=True)
class Admission:
    """Who the caller is and what they may do. `scopes` is None for a login token (it may do
    anything its user may), else the personal token's scopes."""

    user_id: int
    state: TokenState
    prefetched: Prefetched
    token_version: int
    expires_at: datetime
    scopes: frozenset[Scope] | None = None
    personal_token_id: int | None = None

    def may(self, scope: Scope | None) -> bool:
        """Whether this credential may run an operation needing `scope` (None: login only)."""
        if self.scopes is None:
            return True
        return scope is not None and scope in self.scopes


def _claims(token: str) -> tuple[int, int, datetime, personal_tokens.PersonalTokenState | None]:
    """(user id, token version, expiry, personal token state) of a token that is good in
    itself (signature or row, expiry, not revoked); raises Unauthorized otherwise."""
    if personal_tokens.is_personal(token):
        now = timezone.now()
        pat = personal_tokens.personal_token_state(token)
        if pat is None or not pat.live(now):
            raise Unauthorized("Token is invalid, expired or revoked.")
        return pat.user_id, pat.token_version, pat.socket_expiry(now), pat
    claims = tokens.decode(token, expected="access")
    return claims.user_id, claims.version, claims.expires_at, None


def admitted(
    token: str, prefetch: Callable[[int], Sequence[str]] | None = None
) -> Admission | None:
    """The admission of a valid bearer token (login access or personal) whose user still
    admits it, with the values of the `prefetch` keys; None when the token is bad, expired,
    revoked, ended by logout-all / a password change / deactivation, or a refresh token.

    The version and activity come from the token-state cache (no query when cached), and a
    personal token's own state from its cache (accounts/personal_tokens.py).
    """
    try:
        user_id, version, expires_at, pat = _claims(token)
    except Unauthorized:
        return None
    keys = prefetch(user_id) if prefetch else ()
    state, fetched = token_state_with(user_id, keys)
    if state is None or not state.admits(version):
        return None
    if pat is None:
        return Admission(user_id, state, fetched, version, expires_at)
    personal_tokens.personal_token_touch(pat.token_id)
    return Admission(user_id, state, fetched, version, expires_at, pat.scopes, pat.token_id)


def required_scope(rule: ScopeRule, method: str) -> Scope | None:
    if rule == BY_METHOD:
        return Scope.READ if method in READ_METHODS else Scope.WRITE
    return rule


class JWTAuth(HttpBearer):
    """`request.auth` is the token's user (id, version, activity and timezone loaded; the rest
    loads when read). With `prefetch`, `request.prefetched` holds those keys' values, read in
    the token state's round trip or from memory with it (False when Redis did not answer).

    `scope`: what a personal token needs to run the operation (`BY_METHOD`: read for GET,
    write for the rest); None, the default, admits login tokens only (403 for a personal one).
    """

    def __init__(self, prefetch: Prefetch | None = None, *, scope: ScopeRule = None) -> None:
        super().__init__()
        self.prefetch = prefetch
        self.scope = scope

    def __call__(self, request: HttpRequest) -> User | None:
        # Ninja's own HttpBearer writes a whole non-Bearer Authorization header (a Basic
        # password, someone's token) to the log under DEBUG; nothing of it may be logged.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        prefetch = self.prefetch
        admission = admitted(token, prefetch and (lambda user_id: prefetch(user_id, request)))
        if admission is None:
            return None
        needed = required_scope(self.scope, request.method or "GET")
        if not admission.may(needed):
            raise Forbidden(
                LOGIN_ONLY if needed is None else f"This token's scopes do not include {needed}."
            )
        request.prefetched = admission.prefetched
        request.user = user_from_state(admission.user_id, admission.state)
        return request.user


class AuthedRequest(HttpRequest):
    """What a handler behind `JWTAuth` receives: `auth` is the signed-in user."""

    auth: User
    prefetched: Prefetched
