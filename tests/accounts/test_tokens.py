"""RELIABILITY A1-A7: forged, expired, mistyped, rotated, revoked tokens."""

import base64
import json
import uuid
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from accounts import services, tokens
from core.errors import Unauthorized
from tests.concurrency import run_together
from tests.conftest import Api
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

ME = "/api/auth/me/"
REFRESH = "/api/auth/refresh/"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_me_answers_with_a_valid_access_token(authed, user):
    response = authed.get(ME)

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_no_token_is_401(api):
    assert api.get(ME).status_code == 401


def test_access_token_carries_the_spec_claims(authed, user):
    claims = _claims(authed.token)

    assert claims["sub"] == str(user.pk)
    assert claims["type"] == "access"
    assert {"exp", "iat", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_alg_none_token_is_401(authed):
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(authed.token))}."

    assert authed.get(ME, token=forged).status_code == 401


def test_token_signed_with_another_key_is_401(authed):
    forged = jwt.encode(_claims(authed.token), "x" * 64, algorithm="HS256")

    assert authed.get(ME, token=forged).status_code == 401


def test_edited_payload_is_401(authed, user):
    header, _, signature = authed.token.split(".")
    edited = {**_claims(authed.token), "sub": str(user.pk + 1)}

    assert authed.get(ME, token=f"{header}.{_b64(edited)}.{signature}").status_code == 401


# The forger signs with our HS256 key under HS512, which PyJWT warns is short for that
# algorithm: the forgery's own choice, refused whatever its length.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_algorithm_with_the_right_key_is_401(authed):
    forged = jwt.encode(_claims(authed.token), settings.JWT_SIGNING_KEY, algorithm="HS512")

    assert authed.get(ME, token=forged).status_code == 401


def test_access_token_just_past_expiry_is_401_and_just_inside_is_200(user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = Api()
        client.login(user.email)
    lifetime = timedelta(seconds=settings.JWT_ACCESS_TTL_SECONDS)
    leeway = timedelta(seconds=settings.JWT_LEEWAY_SECONDS)

    with time_machine.travel(start + lifetime + leeway - timedelta(seconds=1), tick=False):
        assert client.get(ME).status_code == 200
    with time_machine.travel(start + lifetime + leeway + timedelta(seconds=2), tick=False):
        assert client.get(ME).status_code == 401


def test_refresh_token_is_not_an_access_token(api, user):
    tokens = api.login(user.email)

    assert api.get(ME, token=tokens["refresh"]).status_code == 401


def test_access_token_is_not_a_refresh_token(api, user):
    tokens = api.login(user.email)

    assert api.post(REFRESH, {"refresh": tokens["access"]}).status_code == 401


def test_refresh_rotates_to_a_working_pair(api, user):
    first = api.login(user.email)

    response = api.post(REFRESH, {"refresh": first["refresh"]})

    assert response.status_code == 200
    second = response.json()
    assert second["refresh"] != first["refresh"]
    assert api.get(ME, token=second["access"]).status_code == 200
    assert api.post(REFRESH, {"refresh": second["refresh"]}).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(api, user):
    r1 = api.login(user.email)["refresh"]
    r2 = api.post(REFRESH, {"refresh": r1}).json()["refresh"]

    assert api.post(REFRESH, {"refresh": r1}).status_code == 401
    assert api.post(REFRESH, {"refresh": r2}).status_code == 401


def test_reuse_in_one_login_leaves_other_logins_alone(api, user):
    phone = api.login(user.email)["refresh"]
    laptop = api.login(user.email)["refresh"]
    api.post(REFRESH, {"refresh": phone})
    api.post(REFRESH, {"refresh": phone})  # reuse: the phone's family is revoked

    assert api.post(REFRESH, {"refresh": laptop}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_with_one_token_exactly_one_wins(user):
    refresh = Api().login(user.email)["refresh"]

    results = run_together(*[lambda: services.token_refresh(refresh=refresh)] * 2)

    assert sorted(type(r).__name__ for r in results) == ["TokenPair", "Unauthorized"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_over_http_one_200_one_401(user):
    refresh = Api().login(user.email)["refresh"]

    responses = run_together(*[lambda: Api().post(REFRESH, {"refresh": refresh})] * 4)

    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401]


def test_logout_then_refresh_is_401(api, user):
    tokens = api.login(user.email)

    assert api.post("/api/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 204
    assert api.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401


def test_logout_with_a_forged_token_is_401(api):
    assert api.post("/api/auth/logout/", {"refresh": "not.a.token"}).status_code == 401


def _two_logins(user) -> list[dict]:
    return [Api().login(user.email), Api().login(user.email)]


def _all_dead(logins: list[dict]) -> bool:
    api = Api()
    return all(
        api.get(ME, token=t["access"]).status_code == 401
        and api.post(REFRESH, {"refresh": t["refresh"]}).status_code == 401
        for t in logins
    )


def test_logout_all_ends_every_earlier_token(user):
    logins = _two_logins(user)

    assert Api(logins[0]["access"]).post("/api/auth/logout-all/").status_code == 204
    assert _all_dead(logins)
    assert Api().login(user.email)  # a fresh login still works


def test_password_change_ends_every_earlier_token(user):
    logins = _two_logins(user)

    response = Api(logins[0]["access"]).post(
        "/api/auth/password/",
        {"old_password": DEFAULT_PASSWORD, "new_password": "another long passphrase"},
    )

    assert response.status_code == 204
    assert _all_dead(logins)
    Api().login(user.email, "another long passphrase")


def test_password_change_with_wrong_old_password_is_422_and_changes_nothing(authed, user):
    response = authed.post(
        "/api/auth/password/",
        {"old_password": "wrong", "new_password": "another long passphrase"},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "old_password"]
    assert authed.get(ME).status_code == 200
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_refuses_a_weak_new_password(authed):
    response = authed.post(
        "/api/auth/password/", {"old_password": DEFAULT_PASSWORD, "new_password": "1234"}
    )

    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {("body", "new_password")}


def test_deactivation_ends_every_earlier_token(user):
    logins = _two_logins(user)

    services.user_deactivate(user=user)

    assert _all_dead(logins)


def test_deactivated_in_admin_without_the_service_still_loses_access(user):
    logins = _two_logins(user)

    type(user).objects.filter(pk=user.pk).update(is_active=False)

    assert _all_dead(logins)


# The per-process cache of verified tokens (accounts.tokens._verified): a token decoded once is
# served from it after, yet expiry, type and key are still checked on every use.


def _mint(type: tokens.TokenType = "access", *, now=None, ttl=timedelta(minutes=15)) -> str:
    token, _ = tokens.encode(user_id=7, type=type, version=0, ttl=ttl, jti=uuid.uuid4(), now=now)
    return token


def test_a_cached_token_is_refused_once_the_clock_passes_its_expiry_and_leeway():
    start = timezone.now()
    token = _mint(now=start)
    with time_machine.travel(start, tick=False):
        expires_at = tokens.decode(token, expected="access").expires_at
    leeway = timedelta(seconds=settings.JWT_LEEWAY_SECONDS)
    hits = tokens._verified.cache_info().hits

    with time_machine.travel(expires_at + leeway - timedelta(microseconds=1), tick=False):
        assert tokens.decode(token, expected="access").user_id == 7
    with (
        time_machine.travel(expires_at + leeway, tick=False),
        pytest.raises(Unauthorized, match="invalid or expired"),
    ):
        tokens.decode(token, expected="access")

    assert tokens._verified.cache_info().hits == hits + 2  # both answers came from the cache


def test_a_refresh_token_is_refused_as_access_even_after_it_was_decoded_as_refresh():
    refresh = _mint("refresh")

    assert tokens.decode(refresh, expected="refresh").type == "refresh"
    with pytest.raises(Unauthorized, match="Expected an access token"):
        tokens.decode(refresh, expected="access")
    assert tokens.decode(refresh, expected="refresh").type == "refresh"


def test_an_access_token_refused_as_refresh_is_still_an_access_token():
    access = _mint("access")

    with pytest.raises(Unauthorized, match="Expected a refresh token"):
        tokens.decode(access, expected="refresh")
    assert tokens.decode(access, expected="access").type == "access"


def test_a_token_signed_with_another_key_is_refused_while_the_genuine_one_is_accepted():
    genuine = _mint()
    forged = jwt.encode(_claims(genuine), "x" * 64, algorithm="HS256")

    with pytest.raises(Unauthorized):
        tokens.decode(forged, expected="access")
    assert tokens.decode(genuine, expected="access").user_id == 7
    with pytest.raises(Unauthorized):
        tokens.decode(forged, expected="access")


def test_a_cached_token_is_refused_once_the_signing_key_changes():
    token = _mint()
    tokens.decode(token, expected="access")

    with override_settings(JWT_SIGNING_KEY="another-signing-key-" + "k" * 44):
        with pytest.raises(Unauthorized):
            tokens.decode(token, expected="access")
        assert tokens.decode(_mint(), expected="access").user_id == 7

    assert tokens.decode(token, expected="access").user_id == 7


def test_a_refused_token_is_not_remembered_and_is_checked_in_full_each_time():
    forged = jwt.encode(_claims(_mint()), "x" * 64, algorithm="HS256")
    before = tokens._verified.cache_info()

    for _ in range(2):
        with pytest.raises(Unauthorized):
            tokens.decode(forged, expected="access")

    after = tokens._verified.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (2, 0)
    assert after.currsize == before.currsize
