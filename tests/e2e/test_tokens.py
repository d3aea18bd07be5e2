"""Personal tokens on the profile page (SPEC §10): made with the secret shown once, used from
outside the browser against the live server, revoked in the page, refused at once."""

import json
import urllib.error
import urllib.request
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, expect
from websockets.sync.client import connect

from accounts.models import PersonalToken, User
from tests.e2e.conftest import Backend, Pages, Server, screenshot, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _get(url: str, token: str) -> tuple[int, object]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _expiry_shown(row: Locator, backend: Backend, name: str, user: User) -> None:
    """The row's expiry is the token's, as a short date in the owner's timezone ("Sat 4
    Jan"), with its year exactly when that is not this one ("Mon, 4 Jan 2027")."""
    # The row first: it shows once the POST has answered, so the token is in the database.
    expect(row).to_contain_text("expires ")
    at = backend.run(lambda: PersonalToken.objects.get(name=name).expires_at)
    day = at.astimezone(ZoneInfo(user.timezone)).date()
    shown = row.locator(".token-dates").inner_text().rsplit("expires ", 1)[1]
    # ICU's words: "Sat 4 Jan", "Mon, 4 Jan 2027" (a comma before a date with its year).
    assert shown.startswith(f"{day:%a}"), shown
    assert f" {day.day} " in shown, shown
    assert shown.endswith(f" {day.year}") == (day.year != date.today().year), shown


def test_a_token_made_on_the_profile_works_until_revoked_there(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(UserFactory)
    page = pages.new(server.url + "/#/profile")
    sign_in(page, user.email)
    card = page.get_by_role("region", name="Personal tokens")
    expect(card.get_by_text("No personal tokens.")).to_be_visible()

    # Refused without a name: the API's 422 shows by the field.
    card.get_by_role("button", name="Create token").click()
    expect(card.get_by_text("A name is required.")).to_be_visible()

    card.get_by_label("Name").fill("kitchen tag")
    card.get_by_label("Expires").select_option("30")
    card.get_by_role("button", name="Create token").click()
    secret = card.locator(".token-value").inner_text()
    assert secret.startswith("aht_")
    expect(card.get_by_role("button", name="Copy")).to_be_visible()
    row = card.get_by_role("listitem").filter(has_text="kitchen tag")
    expect(row).to_contain_text("read")
    expect(row).to_contain_text("never used")
    _expiry_shown(row, backend, "kitchen tag", user)
    screenshot(page, "20-profile-personal-token")

    # A year ahead says its year: "expires Sun 5 Dec" would read as this week.
    card.get_by_label("Name").fill("yearly")
    card.get_by_label("Expires").select_option("365")
    card.get_by_role("button", name="Create token").click()
    # The first token's secret is still on show: wait for this one's, not for any.
    expect(card.get_by_text("“yearly” is ready.")).to_be_visible()
    yearly = card.get_by_role("listitem").filter(has_text="yearly")
    _expiry_shown(yearly, backend, "yearly", user)
    card.get_by_role("button", name="Revoke: yearly").click()
    expect(yearly).to_have_count(0)

    status, body = _get(server.url + "/api/habits/", secret)
    assert status == 200, body
    assert body == {"items": [], "count": 0}
    # The README's socket client, against the live server: the bearer subprotocol.
    socket_url = server.url.replace("http://", "ws://") + "/ws/"
    with connect(socket_url, subprotocols=["bearer", secret], origin=server.url) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"type": "hello", "data": {"user_id": user.pk}}

    # The secret is shown once: a reload lists the token without it.
    page.reload()
    row = card.get_by_role("listitem").filter(has_text="kitchen tag")
    expect(row).to_contain_text("last used")
    expect(card.locator(".token-value")).to_have_count(0)
    assert secret not in page.content()

    card.get_by_role("button", name="Revoke: kitchen tag").click()
    expect(card.get_by_text("No personal tokens.")).to_be_visible()

    status, _ = _get(server.url + "/api/habits/", secret)
    assert status == 401
