"""The page keeps itself signed in and live: token refreshes, and a server that goes away."""

from collections.abc import Callable, Iterator
from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Response, expect

from habits.services import habit_create
from instances.models import HabitInstance
from tests.e2e.conftest import (
    Backend,
    Pages,
    Server,
    done_in_telegram,
    expect_live,
    screenshot,
    sign_in,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def own_server(
    request: pytest.FixtureRequest, django_db_setup: None
) -> Iterator[Callable[..., Server]]:
    """`own_server(**env)`: a server of this test's own, which the test may stop and start."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        server = Server(name=f"web-{request.node.name}", **env)
        server.log_path.unlink(missing_ok=True)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        assert "Traceback" not in server.log(), server.log()


def _habit_later_today(action: str) -> tuple[str, HabitInstance]:
    user = UserFactory()
    now = timezone.now()
    at = min(now + timedelta(hours=2), now.replace(hour=23, minute=59))
    habit = habit_create(
        user=user,
        data={"action": action, "time_of_day": time(at.hour, at.minute), "reward_text": "tea"},
    )
    return user.email, HabitInstance.objects.get(habit=habit, date=now.date())


def test_short_lived_access_tokens_are_refreshed_one_at_a_time_and_the_page_stays_live(
    own_server: Callable[..., Server], pages: Pages, backend: Backend
):
    server = own_server(JWT_ACCESS_TTL_SECONDS="8")
    email, instance = backend.run(_habit_later_today, "Floss")
    page = pages.new(server.url + "/")
    refreshes: list[int] = []

    def on_response(response: Response) -> None:
        if response.url.endswith("/api/auth/refresh/"):
            refreshes.append(response.status)

    page.on("response", on_response)
    sign_in(page, email)

    # Two token lifetimes: every access token the page started with has expired since.
    page.wait_for_timeout(14_000)
    backend.run(done_in_telegram, instance)

    row = page.get_by_role("listitem").filter(has_text="Floss")
    expect(row).to_contain_text("via Telegram")
    expect_live(page)
    assert len(refreshes) >= 2
    assert set(refreshes) == {200}  # never a reused (spent) refresh token
    page.get_by_role("link", name="Habits", exact=True).click()
    expect(page.get_by_role("heading", name="Floss")).to_be_visible()


def test_after_the_server_goes_away_the_page_reconnects_and_catches_up(
    own_server: Callable[..., Server], pages: Pages, backend: Backend
):
    server = own_server()
    email, instance = backend.run(_habit_later_today, "Practise guitar")
    page = pages.new(server.url + "/")
    sign_in(page, email)
    row = page.get_by_role("listitem").filter(has_text="Practise guitar")
    expect(row).to_contain_text("Upcoming")

    server.stop()
    expect(page.get_by_role("banner").get_by_text("Reconnecting…")).to_be_visible()
    screenshot(page, "12-reconnecting")
    # Done in Telegram while the page is cut off: no frame can reach it.
    backend.run(done_in_telegram, instance)
    server.start()

    expect_live(page, timeout=30_000)
    expect(row).to_contain_text("via Telegram")
