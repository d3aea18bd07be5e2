import pytest

pytestmark = pytest.mark.django_db


def test_patch_me_changes_the_timezone(authed, user):
    response = authed.patch("/api/auth/me/", {"timezone": "Pacific/Kiritimati"})

    assert response.status_code == 200
    assert response.json()["timezone"] == "Pacific/Kiritimati"
    user.refresh_from_db()
    assert user.timezone == "Pacific/Kiritimati"


@pytest.mark.parametrize("tz", ["Mars/Phobos", "UTC\u0000", "x" * 10_000, 5])
def test_patch_me_with_a_bad_timezone_is_422_and_keeps_the_old_one(authed, user, tz):
    response = authed.patch("/api/auth/me/", {"timezone": tz})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "timezone"]
    user.refresh_from_db()
    assert user.timezone == "UTC"


def test_patch_me_cannot_change_the_email(authed, user):
    response = authed.patch("/api/auth/me/", {"email": "new@example.com"})

    assert response.status_code == 422
    user.refresh_from_db()
    assert user.email != "new@example.com"


def test_patch_me_is_partial_an_empty_body_changes_nothing(authed, user):
    response = authed.patch("/api/auth/me/", {})

    assert response.status_code == 200
    assert response.json()["timezone"] == "UTC"
    user.refresh_from_db()
    assert user.timezone == "UTC"


def test_patch_me_refuses_a_null_timezone_naming_the_field(authed, user):
    response = authed.patch("/api/auth/me/", {"timezone": None})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "timezone"]
    user.refresh_from_db()
    assert user.timezone == "UTC"
