"""No N+1: each list endpoint costs the same queries for one row as for a full page."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from instances.today_cache import today_forget
from tests.conftest import Api
from tests.factories import HabitFactory, make_instance

pytestmark = pytest.mark.django_db

PAGE = 20
TODAY = "/api/instances/today/"


def _queries(api: Api, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def _counts(api: Api, path: str, add_rows: Callable[[int], None]) -> tuple[int, int]:
    """Queries with one row, then with a full page of rows (the token's state cached first)."""
    add_rows(1)
    _queries(api, path)
    one = _queries(api, path)
    add_rows(PAGE - 1)
    return one, _queries(api, path)


def test_habit_list(authed, user):
    one, page = _counts(authed, "/api/habits/", lambda n: HabitFactory.create_batch(n, user=user))

    assert one == page == 3  # count, page, the page's programs (one grouped query)


def test_public_feed(user):
    add = lambda n: HabitFactory.create_batch(n, user=user, is_public=True)  # noqa: E731

    one, page = _counts(Api(), "/api/habits/public/", add)

    assert one == page == 2  # count, page


def test_habit_instances(authed, user):
    habit = HabitFactory(user=user, start_date=datetime(2025, 1, 1, tzinfo=UTC).date())
    made: list[int] = []

    def add(n: int) -> None:
        for _ in range(n):
            day = habit.start_date.toordinal() + len(made)
            at = datetime.fromordinal(day).replace(hour=8, tzinfo=UTC)
            made.append(make_instance(habit, at.date(), at).pk)

    one, page = _counts(authed, f"/api/habits/{habit.pk}/instances/", add)

    assert one == page == 3  # the habit, count, page


def test_today(authed, user):
    """One query after each change (the instances with their habits), none while cached."""
    now = datetime.now(UTC)

    def add(n: int) -> None:
        for habit in HabitFactory.create_batch(n, user=user, start_date=now.date()):
            make_instance(habit, now.date(), now)
        today_forget([user.pk])  # rows made behind the services' back: as a change would

    add(1)
    _queries(authed, TODAY)  # the token's state cached
    today_forget([user.pk])
    one = _queries(authed, TODAY)
    add(PAGE - 1)
    page = _queries(authed, TODAY)

    assert one == page == 1
    assert _queries(authed, TODAY) == 0
