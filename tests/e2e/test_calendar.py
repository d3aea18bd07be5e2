"""The calendar feed from the profile page (SPEC §9): subscribe, copy the URL, fetch it as a
calendar app would, and revoke it."""

import urllib.error
import urllib.request
from datetime import time

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from accounts.models import User
from habits.services import habit_create
from tests.e2e.conftest import Backend, Pages, Server, screenshot, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _user_with_a_habit() -> User:
    user = UserFactory(timezone="Europe/Berlin")
    habit_create(
        user=user,
        data={"action": "Swim", "place": "the lake", "time_of_day": time(7, 30),
              "reward_text": "tea"},
    )  # fmt: skip
    return user


def _get(url: str) -> tuple[int, bytes, str]:
    """What a calendar app gets: no login, no cookie, only the URL."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, b"", ""


def test_subscribe_shows_a_url_a_calendar_reads_and_revoke_ends_it(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(_user_with_a_habit)
    profile = pages.new(server.url + "/#/profile", timezone="Europe/Berlin")
    profile.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(profile, user.email)
    section = profile.get_by_role("region", name="Calendar")

    section.get_by_role("button", name="Subscribe").click()
    field = section.get_by_label("Your calendar URL")
    expect(field).to_be_visible()
    url = field.input_value()
    assert url.startswith(f"{server.url}/cal/")
    assert url.endswith(".ics")
    section.get_by_role("button", name="Copy URL").click()
    expect(profile.get_by_text("Copied", exact=True)).to_be_visible()
    assert profile.evaluate("navigator.clipboard.readText()") == url
    screenshot(profile, "16-profile-calendar")

    status, body, content_type = _get(url)
    assert status == 200
    assert content_type == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(body)
    assert str(calendar.walk("VTIMEZONE")[0]["tzid"]) == "Europe/Berlin"
    events = calendar.walk("VEVENT")
    assert events
    assert {str(e["summary"]) for e in events} == {"Swim @ the lake"}
    assert {(e.start.hour, e.start.minute) for e in events} == {(7, 30)}

    # A new URL ends the one before.
    section.get_by_role("button", name="New URL").click()
    expect(field).not_to_have_value(url)
    newer = field.input_value()
    assert _get(url)[0] == 404
    assert _get(newer)[0] == 200

    section.get_by_role("button", name="Revoke").click()
    expect(section.get_by_role("status")).to_have_text(
        "Revoked: no calendar URL of yours works any more."
    )
    expect(field).to_have_count(0)
    assert _get(newer)[0] == 404
