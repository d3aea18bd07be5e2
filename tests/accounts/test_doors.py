"""Every door that changes who may log in ends every earlier token at once (RELIABILITY A11).

The admin's password form, `manage.py changepassword`, the admin's "active" box (both ways),
its bulk action and a script's plain save() all go through User.save, which bumps the token
version, revokes the refresh tokens, forgets the cached token state and, after the commit,
closes the user's sockets with 4401.
"""

import io
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.test import Client, override_settings

from accounts import services
from accounts.models import User
from tests.conftest import Api
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.realtime.conftest import Socket

pytestmark = pytest.mark.django_db

ME = "/api/auth/me/"
REFRESH = "/api/auth/refresh/"
NEW_PASSWORD = "a brand new passphrase"
DEAD = (401, 401)


@pytest.fixture
def admin_web(db: None) -> Client:
    """A browser logged in to the admin as a superuser."""
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _login(user: User, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
    return Api().login(user.email, password)


def _statuses(login: dict[str, Any]) -> tuple[int, int]:
    """What the login's access token gets from /me/ and its refresh token from /refresh/."""
    api = Api()
    return (
        api.get(ME, token=login["access"]).status_code,
        api.post(REFRESH, {"refresh": login["refresh"]}).status_code,
    )


def _admin_change_form(client: Client, user: User, *, active: bool) -> None:
    """Save the user's admin change form as a person would, with "active" ticked or not."""
    data = {"email": user.email, "timezone": user.timezone, "_save": "Save"}
    if active:
        data["is_active"] = "on"
    response = client.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content


def _version(user: User) -> int:
    return User.objects.values_list("token_version", flat=True).get(pk=user.pk)


# --- a password set by any door ------------------------------------------------------------


def test_a_password_set_in_the_admin_password_form_ends_every_earlier_token(admin_web, user):
    login = _login(user)

    response = admin_web.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302, response.content
    assert _statuses(login) == DEAD
    assert _statuses(_login(user, NEW_PASSWORD)) == (200, 200)


def test_disabling_password_login_in_the_admin_ends_every_earlier_token(admin_web, user):
    login = _login(user)

    response = admin_web.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"usable_password": "false", "unset-password": "Disable password-based authentication"},
    )

    assert response.status_code == 302, response.content
    assert not User.objects.get(pk=user.pk).has_usable_password()
    assert _statuses(login) == DEAD


def test_manage_py_changepassword_ends_every_earlier_token(user, monkeypatch):
    login = _login(user)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)

    call_command("changepassword", user.email, stdout=io.StringIO())

    assert _statuses(login) == DEAD
    assert _statuses(_login(user, NEW_PASSWORD)) == (200, 200)


def test_the_api_password_change_ends_tokens_through_the_same_place_once(user):
    login = _login(user)
    before = _version(user)

    response = Api(login["access"]).post(
        "/api/auth/password/", {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 204
    assert _version(user) == before + 1
    assert _statuses(login) == DEAD


class _OneRoundPBKDF2(PBKDF2PasswordHasher):
    iterations = 1


@override_settings(
    PASSWORD_HASHERS=[
        f"{__name__}._OneRoundPBKDF2",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
)
def test_a_password_hash_upgraded_at_login_logs_no_one_out(user):
    """Django rehashes an outdated hash on login; that is not a change of password."""
    login = _login(user)  # the fixture's password was hashed with MD5: this login rehashes it
    assert User.objects.get(pk=user.pk).password.startswith("pbkdf2_sha256$1$")

    assert _statuses(login) == (200, 200)


# --- "active", both ways, by any door ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_unticking_active_in_the_admin_ends_rest_and_closes_the_socket_4401(admin_web, user):
    login = await database_sync_to_async(_login)(user)
    socket = Socket(login["access"])
    assert (await socket.open())[0]
    await socket.frames_until_quiet(quiet=0.2)  # hello, today.snapshot

    await database_sync_to_async(_admin_change_form)(admin_web, user, active=False)

    assert await socket.closed_with() == 4401
    assert await database_sync_to_async(_statuses)(login) == DEAD


def test_ticking_active_again_in_the_admin_brings_no_earlier_token_back(admin_web, user):
    login = _login(user)
    _admin_change_form(admin_web, user, active=False)

    _admin_change_form(admin_web, user, active=True)

    assert _statuses(login) == DEAD
    assert _statuses(_login(user)) == (200, 200)


@pytest.mark.django_db(transaction=True)
async def test_a_script_saving_is_active_false_ends_rest_and_closes_the_socket_4401(user):
    login = await database_sync_to_async(_login)(user)
    socket = Socket(login["access"])
    assert (await socket.open())[0]
    await socket.frames_until_quiet(quiet=0.2)

    def deactivate() -> None:
        script_copy = User.objects.get(pk=user.pk)
        script_copy.is_active = False
        script_copy.save()

    await database_sync_to_async(deactivate)()

    assert await socket.closed_with() == 4401
    assert await database_sync_to_async(_statuses)(login) == DEAD


def test_re_activation_after_an_update_behind_the_models_back_brings_no_token_back(user):
    """A bulk UPDATE skips User.save; the re-activation through it still ends the tokens."""
    login = _login(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    user.refresh_from_db()
    user.is_active = True
    user.save()

    assert _statuses(login) == DEAD


def test_a_stale_copy_saved_later_does_not_write_an_older_token_version_back(user):
    stale = User.objects.get(pk=user.pk)  # e.g. a script that loaded the user a while ago
    login = _login(user)
    services.user_logout_all(user=User.objects.get(pk=user.pk))

    stale.timezone = "Asia/Tokyo"
    stale.save()

    assert _statuses(login) == DEAD


def test_the_admins_bulk_deactivate_action_ends_every_earlier_token(admin_web, user):
    login = _login(user)

    response = admin_web.post(
        "/admin/accounts/user/", {"action": "deactivate_users", "_selected_action": [user.pk]}
    )

    assert response.status_code == 302, response.content
    assert not User.objects.get(pk=user.pk).is_active
    assert _statuses(login) == DEAD


def test_a_save_that_changes_nothing_about_access_keeps_every_token(admin_web, user):
    login = _login(user)

    _admin_change_form(admin_web, user, active=True)  # saved as it was

    assert _statuses(login) == (200, 200)
