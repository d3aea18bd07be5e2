"""No N+1: each list endpoint costs the same queries for one row as for a full page."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.me_cache import me_forget
from habits.list_cache import habit_lists_forget, public_feed_forget
from instances.stats_cache import stats_forget
from instances.today_cache import today_forget
from tests.conftest import Api
from tests.factories import HabitFactory, make_instance

pytestmark = pytest.mark.django_db

PAGE = 20
TODAY = "/api/instances/today/"
ME = "/api/auth/me/"


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


def _cached_counts(api: Api, path: str, add_rows: Callable[[int], None]) -> tuple[int, int, int]:
    """Queries with one row and with a full page, each read anew (`add_rows` forgets the
    cached answer, as a change would), then the same answer once more, from the cache."""
    add_rows(1)
    _queries(api, path)  # the token's state cached
    add_rows(0)
    one = _queries(api, path)
    add_rows(PAGE - 1)
    return one, _queries(api, path), _queries(api, path)


def test_habit_list(authed, user):
    def add(n: int) -> None:
        HabitFactory.create_batch(n, user=user)
        habit_lists_forget([user.pk])  # rows made behind the services' back

    one, page, cached = _cached_counts(authed, "/api/habits/", add)

    assert one == page == 3  # count, page, the page's programs (one grouped query)
    assert cached == 0


def test_public_feed(user):
    def add(n: int) -> None:
        HabitFactory.create_batch(n, user=user, is_public=True)
        public_feed_forget()

    one, page, cached = _cached_counts(Api(), "/api/habits/public/", add)

    assert one == page == 2  # count, page
    assert cached == 0


def test_me(authed, user):
    _queries(authed, ME)  # the token's state cached
    me_forget([user.pk])

    assert _queries(authed, ME) == 1  # the user
    assert _queries(authed, ME) == 0


def test_habit_stats(authed, user):
    """The owner, then the stats' two grouped reads; none while cached (the entry names the
    owner, so even the ownership check needs no query)."""
    now = datetime.now(UTC)
    habit = HabitFactory(user=user, start_date=now.date())
    path = f"/api/habits/{habit.pk}/stats/"
    _queries(authed, path)  # the token's state cached
    stats_forget([habit.pk])
    one = _queries(authed, path)
    for day in range(PAGE):
        at = now - timedelta(days=day)
        make_instance(habit, at.date(), at)
    stats_forget([habit.pk])

    assert one == _queries(authed, path) == 3
    assert _queries(authed, path) == 0


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
