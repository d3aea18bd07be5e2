"""E4: tokens signed with the real key whose expiry a datetime cannot hold (RELIABILITY,
part two). PyJWT accepts any number as `exp`; turning it into a datetime overflowed into a
500 on REST (the socket's handshake crashed the same way, tests/realtime)."""

import uuid

import jwt
import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import User

pytestmark = pytest.mark.django_db

ME = "/api/auth/me/"
END_OF_CALENDAR = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime holds


def signed_with_exp(user: User, exp: float, type: str = "access") -> str:
    """A token of `user`, signed with the real key, expiring at `exp`."""
    claims = {
        "sub": str(user.pk),
        "iat": int(timezone.now().timestamp()),
        "exp": exp,
        "jti": str(uuid.uuid4()),
        "type": type,
        "ver": user.token_version,
        **({"fam": str(uuid.uuid4())} if type == "refresh" else {}),
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm="HS256")


@pytest.mark.parametrize("exp", [10**20, 1e20, 10**400], ids=["int", "float", "huge"])
def test_an_expiry_past_the_calendar_is_401(api, user, exp):
    response = api.get(ME, token=signed_with_exp(user, exp))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_expiry_on_the_calendars_last_second_is_honoured_without_overflow(api, user):
    response = api.get(ME, token=signed_with_exp(user, END_OF_CALENDAR))

    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def test_a_refresh_token_expiring_past_the_calendar_is_401(api, user):
    token = signed_with_exp(user, 10**20, type="refresh")

    assert api.post("/api/auth/refresh/", {"refresh": token}).status_code == 401
