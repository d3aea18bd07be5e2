"""Bearer authentication for the API: a valid access token of an active user, current version."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from accounts import tokens
from accounts.models import User
from config.errors import Unauthorized


def user_for_access_token(token: str) -> User | None:
    """The token's user, or None when the token is bad, expired, revoked or not an access one."""
    try:
        claims = tokens.decode(token, expected="access")
    except Unauthorized:
        return None
    user = User.objects.filter(pk=claims.user_id, is_active=True).first()
    if user is None or user.token_version != claims.version:
        return None
    return user


class JWTAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_access_token(token)
        if user is not None:
            request.user = user
        return user


class AuthedRequest(HttpRequest):
    """What a handler behind `JWTAuth` receives: `auth` is the signed-in user."""

    auth: User
