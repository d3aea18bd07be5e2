"""F3: bodies too big, too deep or of the wrong type, and list pages too long, are refused
with a 4xx in the error vocabulary: never a 500, never a traceback in the log."""

import logging

import pytest
from django.test import override_settings

from core.pagination import MAX_LIMIT
from habits.models import Habit
from tests.factories import HabitFactory

pytestmark = pytest.mark.django_db

HABITS = "/api/habits/"
GOOD_HABIT = '{"action": "run", "time_of_day": "07:00", "reward_text": "tea"}'


@pytest.fixture(autouse=True)
def no_error_is_logged(caplog):
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


def test_a_body_over_the_limit_is_413_and_writes_nothing(authed):
    body = '{"action": "run", "time_of_day": "07:00", "reward_text": "' + "x" * 1_100_000 + '"}'

    response = authed.post(HABITS, raw=body)

    assert response.status_code == 413
    assert response.json()["detail"] == "Request body is larger than 1048576 bytes."
    assert not Habit.objects.exists()


BIG = "x" * 1_100_000


# E3: under DEBUG (`make run`) Django Ninja answered Django's RequestDataTooBig with its own
# traceback page, a 500; and an operation that reads no body acted on the request (logout-all
# logged everyone out) whatever its size. Now every operation refuses it first.
@override_settings(DEBUG=True)
@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/api/auth/login/", "application/json"),
        ("POST", "/api/auth/login/", "text/plain"),
        ("POST", HABITS, "application/json"),
        ("PATCH", "/api/auth/me/", "application/json"),
        ("POST", "/api/auth/logout-all/", "application/json"),
        ("POST", "/api/instances/1/complete/", "application/json"),
    ],
)
def test_a_body_over_the_limit_is_413_under_debug_too_whatever_the_operation(
    authed, method, path, content_type
):
    response = authed.request(method, path, raw=BIG, content_type=content_type)

    assert response.status_code == 413
    assert response.json()["detail"] == "Request body is larger than 1048576 bytes."
    assert authed.get("/api/auth/me/").status_code == 200  # nothing was done with it


@pytest.mark.parametrize("depth", [50, 900, 990, 5_000, 80_000])
@pytest.mark.parametrize("shape", ["array", "object"])
def test_deeply_nested_json_is_a_422_never_a_recursion_error(authed, depth, shape):
    if shape == "array":
        body = "[" * depth + "]" * depth
    else:
        body = '{"action": ' * depth + '"run"' + "}" * depth

    response = authed.post(HABITS, raw=body)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"
    assert not Habit.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "",
    ],
)
def test_a_json_body_sent_as_another_media_type_is_415_and_writes_nothing(authed, content_type):
    response = authed.post(HABITS, raw=GOOD_HABIT, content_type=content_type)

    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert not Habit.objects.exists()


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_json_in_any_spelling_of_its_media_type_is_read(authed, content_type):
    response = authed.post(HABITS, raw=GOOD_HABIT, content_type=content_type)

    assert response.status_code == 201


@pytest.mark.parametrize("path", [HABITS, f"{HABITS}public/"])
def test_a_page_holds_at_most_the_cap_and_asking_for_more_is_422(user, authed, path):
    HabitFactory.create_batch(MAX_LIMIT + 5, user=user, is_public=True)

    full = authed.get(f"{path}?limit={MAX_LIMIT}")
    too_many = authed.get(f"{path}?limit={MAX_LIMIT + 1}")
    default = authed.get(path)

    assert full.status_code == 200
    assert len(full.json()["items"]) == MAX_LIMIT
    assert full.json()["count"] == MAX_LIMIT + 5
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["query", "limit"]
    assert len(default.json()["items"]) == 20
