"""Every answer under /api/ speaks the one error vocabulary, in JSON, never a 500."""

import pytest
from django.test import override_settings

from core.requests import client_ip

pytestmark = pytest.mark.django_db


def test_a_body_over_the_limit_is_413_json(api):
    response = api.post("/api/auth/login/", raw='{"email": "' + "a" * 1_100_000 + '"}')

    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_a_missing_trailing_slash_is_a_json_404_not_a_redirect(api):
    response = api.post("/api/auth/login", {"email": "a@example.com", "password": "x"})

    assert response.status_code == 404
    assert "slash" in response.json()["detail"]


def test_an_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_wrong_method_is_a_json_405(api):
    response = api.request("PUT", "/api/auth/login/", {"email": "a@example.com"})

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"


def test_401_tells_the_client_to_use_a_bearer_token(api):
    response = api.get("/api/auth/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def _request_from(remote: str, forwarded: str | None):
    from django.test import RequestFactory

    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_forwarded_for_is_ignored_unless_proxies_are_trusted():
    assert client_ip(_request_from("10.0.0.1", "6.6.6.6")) == "10.0.0.1"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_address_it_saw_is_used_not_one_the_client_wrote():
    request = _request_from("10.0.0.1", "6.6.6.6, 203.0.113.7")

    assert client_ip(request) == "203.0.113.7"
