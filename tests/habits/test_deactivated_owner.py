"""A deactivated user's habits leave the public feed (RELIABILITY A11)."""

import pytest

from accounts.services import user_deactivate
from tests.conftest import Api
from tests.factories import HabitFactory

pytestmark = pytest.mark.django_db

FEED = "/api/habits/public/"


def test_a_deactivated_users_public_habit_leaves_the_feed_and_returns_with_them(user):
    HabitFactory(user=user, is_public=True, action="mine")
    HabitFactory(is_public=True, action="theirs")

    user_deactivate(user=user)
    body = Api().get(FEED).json()

    assert body["count"] == 1
    assert [h["action"] for h in body["items"]] == ["theirs"]

    user.is_active = True
    user.save()
    assert {h["action"] for h in Api().get(FEED).json()["items"]} == {"mine", "theirs"}
