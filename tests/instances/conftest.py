"""Shared set-ups of the instances tests: an owner in UTC signed in over the API, and an
instance of a habit of theirs that began a month ago."""

from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.models import User
from instances.models import HabitInstance, Status
from tests.conftest import Api
from tests.factories import HabitFactory, UserFactory, make_instance


@pytest.fixture
def utc_user(db: None) -> User:
    return UserFactory(timezone="UTC")


@pytest.fixture
def client(utc_user: User) -> Api:
    api = Api()
    api.login(utc_user.email)
    return api


def instance_of(
    user: User, on: date, at: datetime, status: str = Status.PENDING, **fields: object
) -> HabitInstance:
    """An instance on `on`, at `at`, of a new habit of `user` begun 30 days before today (so
    the course is under way whatever day the test picks)."""
    habit = HabitFactory(user=user, start_date=datetime.now(UTC).date() - timedelta(days=30))
    return make_instance(habit, on, at, status=status, **fields)
