import pytest
from django.test import override_settings

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login/"


def test_login_answers_a_bearer_pair(api, user):
    response = api.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["access"] != body["refresh"]


def test_wrong_password_and_unknown_user_get_the_same_401(api, user):
    wrong = api.post(LOGIN, {"email": user.email, "password": "not-the-password"})
    unknown = api.post(LOGIN, {"email": "nobody@example.com", "password": "not-the-password"})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_inactive_user_cannot_log_in(api):
    user = UserFactory(is_active=False)

    assert api.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 401


@override_settings(LOGIN_THROTTLE_PER_EMAIL=3, LOGIN_THROTTLE_PER_IP=100)
def test_repeated_wrong_passwords_lock_the_email_even_for_the_right_one(api, user):
    for _ in range(3):
        assert api.post(LOGIN, {"email": user.email, "password": "wrong"}).status_code == 401

    locked = api.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    # A stranger's unknown address gets the very same refusal: nothing tells users apart.
    for _ in range(3):
        api.post(LOGIN, {"email": "ghost@example.com", "password": "wrong"})
    ghost = api.post(LOGIN, {"email": "ghost@example.com", "password": "wrong"})
    assert ghost.status_code == 429
    assert ghost.json() == locked.json()


@override_settings(LOGIN_THROTTLE_PER_EMAIL=100, LOGIN_THROTTLE_PER_IP=4)
def test_one_address_trying_many_emails_is_throttled(api, user):
    for n in range(4):
        api.post(LOGIN, {"email": f"guess{n}@example.com", "password": "wrong"})

    response = api.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 429


@override_settings(LOGIN_THROTTLE_PER_EMAIL=3)
def test_a_successful_login_clears_the_email_counter(api, user):
    for _ in range(2):
        api.post(LOGIN, {"email": user.email, "password": "wrong"})
    assert api.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 200

    for _ in range(2):
        api.post(LOGIN, {"email": user.email, "password": "wrong"})

    assert api.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 200


@override_settings(LOGIN_THROTTLE_PER_EMAIL=2)
def test_login_email_is_matched_in_any_case_for_the_throttle_too(api, user):
    api.post(LOGIN, {"email": user.email.upper(), "password": "wrong"})
    api.post(LOGIN, {"email": user.email, "password": "wrong"})

    assert api.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 429


@pytest.mark.django_db(transaction=True)
@override_settings(LOGIN_THROTTLE_PER_EMAIL=5, LOGIN_THROTTLE_PER_IP=1000)
def test_a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit(user):
    from tests.concurrency import run_together
    from tests.conftest import Api

    responses = run_together(
        *[lambda: Api().post(LOGIN, {"email": user.email, "password": "wrong"})] * 20
    )
    codes = [r.status_code for r in responses]

    assert codes.count(401) == 5
    assert codes.count(429) == 15
