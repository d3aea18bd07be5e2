import pytest

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/auth/register/"
GOOD = {
    "email": "Ann@Example.com",
    "password": "correct horse battery",
    "timezone": "Europe/Berlin",
}


def _locs(response) -> list[list]:
    return [item["loc"] for item in response.json()["detail"]]


def test_register_creates_a_user_who_can_log_in(api):
    response = api.post(REGISTER, GOOD)

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ann@example.com"
    assert body["timezone"] == "Europe/Berlin"
    assert set(body) == {"id", "email", "timezone", "date_joined", "quiet_hours"}
    assert body["quiet_hours"] is None
    assert (
        api.post(
            "/api/auth/login/", {"email": "ANN@example.com", "password": GOOD["password"]}
        ).status_code
        == 200
    )


def test_timezone_defaults_to_utc(api):
    response = api.post(REGISTER, {"email": "bo@example.com", "password": GOOD["password"]})

    assert response.status_code == 201
    assert response.json()["timezone"] == "UTC"


@pytest.mark.parametrize("email", ["ann@example.com", "ANN@EXAMPLE.COM", "Ann@example.com"])
def test_duplicate_email_in_any_case_is_refused(api, email):
    UserFactory(email="ann@example.com")

    response = api.post(REGISTER, {**GOOD, "email": email})

    assert response.status_code == 422
    assert _locs(response) == [["body", "email"]]
    assert User.objects.count() == 1


def test_database_refuses_a_case_variant_even_past_the_api(db):
    from django.db import IntegrityError

    UserFactory(email="ann@example.com")
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="ANN@example.com")])


@pytest.mark.parametrize(
    "tz", ["Mars/Phobos", "utc+3", "../../etc/passwd", "", "localtime", "Factory", "posix/UTC"]
)
def test_unknown_timezone_is_422_naming_timezone(api, tz):
    response = api.post(REGISTER, {**GOOD, "timezone": tz})

    assert response.status_code == 422
    assert ["body", "timezone"] in _locs(response)
    assert not User.objects.exists()


def test_weak_password_is_422_naming_password(api):
    response = api.post(REGISTER, {**GOOD, "password": "123"})

    assert response.status_code == 422
    assert _locs(response)
    assert all(loc == ["body", "password"] for loc in _locs(response))


def test_every_bad_field_is_named_at_once(api):
    response = api.post(REGISTER, {"email": "not-an-email", "password": "", "timezone": "Nowhere"})

    assert response.status_code == 422
    named = {tuple(loc) for loc in _locs(response)}
    assert named == {("body", "email"), ("body", "password"), ("body", "timezone")}


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("null", "application/json"),
        ("[" * 5000 + "]" * 5000, "application/json"),
        ("email=a@b.c&password=x", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (
            '{"email": "a@example.com", "password": "correct horse battery", "admin": true}',
            "application/json",
        ),
        (
            '{"email": "a\\u0000@example.com", "password": "correct horse battery"}',
            "application/json",
        ),
        ('{"email": "a@example.com", "password": "' + "x" * 10_000 + '"}', "application/json"),
        ('{"email": 12, "password": ["x"]}', "application/json"),
        (
            '{"email": "a@example.com", "password": "correct horse battery", '
            '"timezone": "UTC\\u0000"}',
            "application/json",
        ),
    ],
)
def test_garbage_bodies_are_4xx_and_create_nothing(api, raw, content_type):
    response = api.post(REGISTER, raw=raw, content_type=content_type)

    # A body that is not JSON at all is refused for its media type; bad JSON is invalid input.
    assert response.status_code == (422 if content_type == "application/json" else 415)
    assert response["Content-Type"].startswith("application/json")
    assert not User.objects.exists()


def test_an_idn_address_is_stored_as_typed_so_the_same_text_logs_in(api):
    email = "b@xn--80ak6aa92e.com"
    assert api.post(REGISTER, {**GOOD, "email": email}).status_code == 201

    response = api.post("/api/auth/login/", {"email": email, "password": GOOD["password"]})

    assert response.status_code == 200


def test_an_address_saved_through_the_model_rules_is_normalised(db):
    user = User(email="Mixed.Case@Example.COM")
    user.set_password(GOOD["password"])
    user.full_clean()  # what the admin runs before saving
    user.save()

    assert user.email == "mixed.case@example.com"
