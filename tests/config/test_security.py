"""F2 and the production-safe configuration: the deploy check, security headers on every
answer, CORS from the environment, the admin behind a login, and no secret in any log line."""

import base64
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from tests.conftest import Api
from tests.factories import DEFAULT_PASSWORD, HabitFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "SECRET_KEY": "prod-test-secret-key-" + "k" * 40,
    "JWT_SIGNING_KEY": "prod-test-jwt-key-" + "j" * 40,
    "ALLOWED_HOSTS": "habits.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://habits.example.com",
    "CORS_ALLOWED_ORIGINS": "https://app.example.com",
}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _run_prod(*args: str) -> subprocess.CompletedProcess[str]:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        **PROD_ENV,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check():
    result = _run_prod("manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# Asks the production settings, in a process of their own, how they answer a few requests.
PROD_PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="habits.example.com")
answers = {}
for name, path, extra in [
    ("https_api", "/api/habits/public/", {"HTTP_X_FORWARDED_PROTO": "https"}),
    ("https_missing", "/api/nope/", {"HTTP_X_FORWARDED_PROTO": "https"}),
    ("plain_http", "/healthz", {}),
    ("preflight", "/api/habits/", {
        "HTTP_X_FORWARDED_PROTO": "https", "HTTP_ORIGIN": "https://app.example.com",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization, content-type"}),
]:
    method = client.options if name == "preflight" else client.get
    response = method(path, **extra)
    headers = {key.lower(): value for key, value in response.headers.items()}
    answers[name] = {"status": response.status_code, "headers": headers}
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def prod_answers(django_db_setup: None) -> dict:
    """The production process reads the test database, so it must exist first."""
    result = _run_prod("-c", PROD_PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_answers_over_https_carry_hsts_and_the_security_headers(prod_answers):
    for name in ("https_api", "https_missing"):
        headers = prod_answers[name]["headers"]
        assert headers["strict-transport-security"].startswith("max-age=31536000"), name
        for header, value in SECURITY_HEADERS.items():
            assert headers[header.lower()] == value, (name, header)
    assert prod_answers["https_api"]["status"] == 200
    assert prod_answers["https_missing"]["status"] == 404


def test_production_sends_plain_http_to_https(prod_answers):
    answer = prod_answers["plain_http"]

    assert answer["status"] == 301
    assert answer["headers"]["location"] == "https://habits.example.com/healthz"


def test_production_allows_the_origins_named_in_the_environment(prod_answers):
    headers = prod_answers["preflight"]["headers"]

    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert "authorization" in headers["access-control-allow-headers"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/healthz", None, 200),
        ("GET", "/", None, 200),
        ("GET", "/api/habits/", None, 200),
        ("GET", "/api/auth/me/", "no-token", 401),
        ("GET", "/api/nope/", None, 404),
        ("PUT", "/api/auth/login/", {}, 405),
        ("POST", "/api/habits/", {"action": ""}, 422),
        ("POST", "/api/habits/", "x" * 1_100_000, 413),
        ("GET", "/admin/", None, 302),
    ],
)
def test_every_answer_carries_the_security_headers(authed, method, path, body, status):
    if body == "no-token":
        response = Api().request(method, path)
    elif isinstance(body, str):
        response = authed.request(method, path, raw=body)
    else:
        response = authed.request(method, path, body)

    assert response.status_code == status
    for header, value in SECURITY_HEADERS.items():
        assert response[header] == value, header


PREFLIGHT = {
    "HTTP_ORIGIN": "https://app.example.com",
    "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
    "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization, content-type",
}


def test_by_default_no_other_origin_may_call_the_api(client):
    preflight = client.options("/api/habits/", **PREFLIGHT)
    read = client.get("/api/habits/public/", HTTP_ORIGIN="https://app.example.com")

    assert "Access-Control-Allow-Origin" not in preflight
    assert "Access-Control-Allow-Origin" not in read


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_an_allowed_origin_may_call_the_api_and_read_retry_after(client):
    preflight = client.options("/api/habits/", **PREFLIGHT)
    read = client.get("/api/habits/public/", HTTP_ORIGIN="https://app.example.com")
    other = client.get("/api/habits/public/", HTTP_ORIGIN="https://evil.example.com")

    assert preflight["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert read["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Retry-After" in read["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in other


def test_the_admin_opens_only_for_staff(client):
    person = UserFactory()
    staff = UserFactory(is_staff=True, is_superuser=True)
    token = Api().login(person.email)["access"]

    anonymous = client.get("/admin/accounts/user/")
    with_bearer = client.get("/admin/accounts/user/", HTTP_AUTHORIZATION=f"Bearer {token}")
    client.force_login(person)
    not_staff = client.get("/admin/accounts/user/")
    client.force_login(staff)
    as_staff = client.get("/admin/accounts/user/")

    for refused in (anonymous, with_bearer, not_staff):
        assert refused.status_code == 302
        assert refused["Location"].startswith("/admin/login/")
    assert as_staff.status_code == 200


NEW_PASSWORD = "another-long-passphrase"


def _drive_every_secret_through_the_api() -> list[str]:
    """Log in, fail to log in, refresh, change the password, send junk; return every secret."""
    user = UserFactory()
    HabitFactory(user=user)
    api = Api()
    first = api.login(user.email)
    api.post("/api/auth/login/", {"email": user.email, "password": "wrong-" + DEFAULT_PASSWORD})
    api.post("/api/auth/login/", raw='{"email": "x", "password": "' + DEFAULT_PASSWORD + '"')
    second = api.post("/api/auth/refresh/", {"refresh": first["refresh"]}).json()
    api.post("/api/auth/refresh/", {"refresh": first["refresh"]})  # reuse: revoked family
    api.token = second["access"]
    api.post("/api/auth/password/", {"old_password": "nope", "new_password": NEW_PASSWORD})
    api.post(
        "/api/auth/password/", {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )
    api.get("/api/auth/me/")  # the old access token, now refused
    api.post("/api/auth/register/", {"email": "new@example.com", "password": "123"})
    api.post("/api/auth/logout/", {"refresh": second["refresh"]})
    api.post("/api/habits/", {"action": DEFAULT_PASSWORD}, token=second["access"])
    # Credentials under another scheme than Bearer: refused, and never written down.
    basic = base64.b64encode(f"{user.email}:{NEW_PASSWORD}".encode()).decode()
    for header in (f"Basic {basic}", f"Token {second['access']}", f"bearer{first['refresh']}"):
        api.client.get("/api/auth/me/", headers={"Authorization": header})
    return [
        DEFAULT_PASSWORD,
        NEW_PASSWORD,
        basic,
        first["access"],
        first["refresh"],
        second["access"],
        second["refresh"],
        settings.JWT_SIGNING_KEY,
        settings.SECRET_KEY,
    ]


# Under DEBUG (what `make run` has) libraries log more, Django Ninja among them.
@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_no_token_or_password_reaches_any_log_line(caplog, debug):
    caplog.set_level(logging.DEBUG)

    with override_settings(DEBUG=debug):
        secrets = _drive_every_secret_through_the_api()

    assert caplog.records, "the requests logged nothing at all: the capture is not working"
    for record in caplog.records:
        text = record.getMessage() + (caplog.handler.format(record) if record.exc_info else "")
        for secret in secrets:
            # A token's signature alone identifies it: look for that part too.
            for piece in {secret, secret.rsplit(".", 1)[-1]}:
                assert piece not in text, f"{record.name} logged a secret: {text[:200]}"
