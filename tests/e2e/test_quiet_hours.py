"""Quiet hours on the profile page (SPEC §8): set, refused when malformed, cleared."""

from datetime import time

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.e2e.conftest import Backend, Pages, Server, screenshot, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SET_TOAST = "Quiet hours set: 22:30 – 07:00"  # noqa: RUF001 (the page's own dash)


def _quiet_hours(user_id: int) -> tuple[time, time] | None:
    return User.objects.get(pk=user_id).quiet_hours


def test_quiet_hours_are_set_refused_when_empty_and_cleared_from_the_profile(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(UserFactory, timezone="Europe/Berlin")
    page = pages.new(server.url + "/#/profile")
    sign_in(page, user.email)
    quiet = page.get_by_role("region", name="Quiet hours")
    expect(quiet.get_by_text("No quiet hours: reminders come when they are due.")).to_be_visible()
    expect(quiet.get_by_role("button", name="Clear quiet hours")).to_be_hidden()

    quiet.get_by_label("Quiet from").fill("22:30")
    quiet.get_by_label("Quiet until").fill("07:00")
    quiet.get_by_role("button", name="Save quiet hours").click()

    expect(quiet.get_by_text("Reminders wait from 22:30 until 07:00")).to_be_visible()
    expect(page.get_by_text(SET_TOAST)).to_be_visible()
    assert backend.run(_quiet_hours, user.pk) == (time(22, 30), time(7, 0))
    screenshot(page, "19-profile-quiet-hours")

    # The same start and end: the API's refusal shows by the pair, and nothing changes.
    quiet.get_by_label("Quiet until").fill("22:30")
    quiet.get_by_role("button", name="Save quiet hours").click()
    expect(quiet.get_by_text("start and end must differ")).to_be_visible()
    assert backend.run(_quiet_hours, user.pk) == (time(22, 30), time(7, 0))

    quiet.get_by_role("button", name="Clear quiet hours").click()

    expect(quiet.get_by_text("No quiet hours: reminders come when they are due.")).to_be_visible()
    expect(quiet.get_by_role("button", name="Clear quiet hours")).to_be_hidden()
    assert backend.run(_quiet_hours, user.pk) is None
