"""Every door that checks a secret is throttled (RELIABILITY A12): the admin's login shares the
API login's counters, the current password at a password change, registrations per address;
and a stranger's wrong passwords do not lock the owner out."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client, override_settings

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"
ADMIN_LOGIN = "/admin/login/"
PASSWORD = "/api/auth/password/"
REGISTER = "/api/auth/register/"
NEW_PASSWORD = "another-long-passphrase"


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory(is_staff=True, is_superuser=True)


def admin_login(client: Client, email: str, password: str):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password, "next": "/admin/"})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- the admin's login ---------------------------------------------------------------------


@override_settings(LOGIN_THROTTLE_PER_EMAIL=5, LOGIN_THROTTLE_PER_IP=100)
def test_admin_login_refuses_even_the_right_password_after_5_wrong_ones(client, staff):
    for _ in range(5):
        assert admin_login(client, staff.email, "wrong").status_code == 200  # the form again

    refused = admin_login(client, staff.email, DEFAULT_PASSWORD)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert b"Too many failed logins" in refused.content
    assert not logged_in(client)


@override_settings(LOGIN_THROTTLE_PER_EMAIL=100, LOGIN_THROTTLE_PER_IP=4)
def test_admin_login_refuses_an_address_that_tried_many_emails(client, staff):
    for n in range(4):
        admin_login(client, f"guess{n}@example.com", "wrong")

    refused = admin_login(client, staff.email, DEFAULT_PASSWORD)

    assert refused.status_code == 429
    assert not logged_in(client)


@override_settings(LOGIN_THROTTLE_PER_EMAIL=4, LOGIN_THROTTLE_PER_IP=100)
def test_admin_and_api_logins_count_on_the_same_counters(client, api, staff):
    for _ in range(2):
        api.post(LOGIN, {"email": staff.email, "password": "wrong"})
    for _ in range(2):
        admin_login(client, staff.email.upper(), "wrong")

    assert api.post(LOGIN, {"email": staff.email, "password": DEFAULT_PASSWORD}).status_code == 429
    assert admin_login(client, staff.email, DEFAULT_PASSWORD).status_code == 429


@override_settings(LOGIN_THROTTLE_PER_EMAIL=3)
def test_admin_login_with_the_right_password_gets_in_and_clears_the_count(client, staff):
    for _ in range(2):
        admin_login(client, staff.email, "wrong")

    assert admin_login(client, staff.email, DEFAULT_PASSWORD).status_code == 302
    assert logged_in(client)
    client.logout()
    for _ in range(2):
        admin_login(client, staff.email, "wrong")
    assert admin_login(client, staff.email, DEFAULT_PASSWORD).status_code == 302


# --- the lever: a stranger's failures do not lock the owner out ----------------------------

ATTACKER, OWNER = "198.51.100.66", "203.0.113.7"


@override_settings(LOGIN_THROTTLE_PER_EMAIL=5, LOGIN_THROTTLE_PER_IP=20)
def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out_of_another(api, user):
    for _ in range(8):
        api.post(LOGIN, {"email": user.email, "password": "wrong"}, REMOTE_ADDR=ATTACKER)
    attacker = api.post(LOGIN, {"email": user.email, "password": "wrong"}, REMOTE_ADDR=ATTACKER)

    owner = api.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR=OWNER)

    assert attacker.status_code == 429
    assert owner.status_code == 200


@override_settings(LOGIN_THROTTLE_PER_EMAIL=5, LOGIN_THROTTLE_PER_IP=100)
def test_the_admin_owner_is_not_locked_out_by_another_address_either(staff):
    attacker, owner = Client(REMOTE_ADDR=ATTACKER), Client(REMOTE_ADDR=OWNER)
    for _ in range(8):
        admin_login(attacker, staff.email, "wrong")

    assert admin_login(attacker, staff.email, DEFAULT_PASSWORD).status_code == 429
    assert admin_login(owner, staff.email, DEFAULT_PASSWORD).status_code == 302


@override_settings(
    LOGIN_THROTTLE_PER_EMAIL=5, LOGIN_THROTTLE_PER_EMAIL_TOTAL=10, LOGIN_THROTTLE_PER_IP=1000
)
def test_one_address_hammering_cannot_run_up_the_total_ceiling(api, user):
    for _ in range(50):  # 5 guesses, then 45 refusals, which count nowhere
        api.post(LOGIN, {"email": user.email, "password": "wrong"}, REMOTE_ADDR=ATTACKER)

    owner = api.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR=OWNER)

    assert owner.status_code == 200


@override_settings(
    LOGIN_THROTTLE_PER_EMAIL=2, LOGIN_THROTTLE_PER_EMAIL_TOTAL=6, LOGIN_THROTTLE_PER_IP=100
)
def test_guessing_one_email_from_many_addresses_meets_the_total_ceiling(api, user):
    for n in range(3):
        for _ in range(4):  # two guesses each, then refusals, which count nowhere
            api.post(LOGIN, {"email": user.email, "password": "wrong"}, REMOTE_ADDR=f"10.0.0.{n}")

    fresh = api.post(LOGIN, {"email": user.email, "password": "wrong"}, REMOTE_ADDR="10.0.1.1")

    assert fresh.status_code == 429


@override_settings(LOGIN_THROTTLE_PER_EMAIL=100, LOGIN_THROTTLE_PER_IP=3)
def test_an_ipv6_client_is_one_address_across_its_64(api, user):
    for n in range(3):
        body = {"email": f"guess{n}@example.com", "password": "wrong"}
        api.post(LOGIN, body, REMOTE_ADDR=f"2001:db8::{n}")

    response = api.post(
        LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="2001:db8::ff"
    )

    assert response.status_code == 429


# --- the current password at a password change ---------------------------------------------


def test_a_stolen_token_gets_5_guesses_of_the_current_password(authed, user):
    for _ in range(5):
        wrong = authed.post(PASSWORD, {"old_password": "guess", "new_password": NEW_PASSWORD})
        assert wrong.status_code == 422

    refused = authed.post(
        PASSWORD, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_the_right_current_password_is_no_guess(authed):
    for _ in range(7):
        weak = authed.post(PASSWORD, {"old_password": DEFAULT_PASSWORD, "new_password": "1234"})
        assert weak.status_code == 422  # on new_password: the attempt is given back

    changed = authed.post(
        PASSWORD, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert changed.status_code == 204


# --- registrations -------------------------------------------------------------------------


def _register(api, n: int, **extra):
    body = {"email": f"new{n}@example.com", "password": "correct horse battery"}
    return api.post(REGISTER, body, **extra)


@override_settings(REGISTER_THROTTLE_PER_IP=3, REGISTER_THROTTLE_WINDOW_SECONDS=3600)
def test_registrations_past_the_per_address_limit_are_429(api):
    codes = [_register(api, n).status_code for n in range(3)]
    refused = _register(api, 3)
    elsewhere = _register(api, 4, REMOTE_ADDR="203.0.113.9")

    assert codes == [201, 201, 201]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert elsewhere.status_code == 201
    assert not User.objects.filter(email="new3@example.com").exists()


def test_the_default_register_limit_is_10_an_hour(api):
    codes = [_register(api, n).status_code for n in range(11)]

    assert codes == [201] * 10 + [429]


def test_a_duplicate_address_costs_the_same_hash_as_a_new_one(api, monkeypatch):
    encodes: list[str] = []
    encode = MD5PasswordHasher.encode  # the test settings' (only) hasher

    def counted(self, password: str, salt: str) -> str:
        encodes.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counted)
    body = {"email": "ann@example.com", "password": "correct horse battery"}

    assert api.post(REGISTER, body).status_code == 201
    new_path = len(encodes)
    assert api.post(REGISTER, {**body, "email": "ANN@example.com"}).status_code == 422
    duplicate_path = len(encodes) - new_path

    assert new_path == duplicate_path == 1
