"""Webhooks in the browser (SPEC §10): add one on the profile page (the secret shown once, with
a copy button), complete an instance on the Today page, and see the delivery listed; the
receiver, a real server on the loopback, got it signed with that secret."""

import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook as Verifier

from accounts.models import User
from tests.e2e.conftest import Backend, Pages, Server, screenshot, sign_in
from tests.factories import HabitFactory, UserFactory, make_instance
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


def _user_with_an_open_instance(action: str) -> User:
    user = UserFactory()
    habit = HabitFactory(user=user, action=action)
    make_instance(habit, timezone.localdate(), timezone.now())
    return user


def test_a_hook_added_on_the_profile_receives_a_completion_made_in_the_page(
    server: Server, pages: Pages, backend: Backend
):
    receiver = Receiver()
    try:
        user = backend.run(_user_with_an_open_instance, "Stretch")
        page = pages.new(server.url + "/#/profile")
        sign_in(page, user.email)
        section = page.get_by_role("region", name="Webhooks")
        expect(section.get_by_text("No webhooks yet.")).to_be_visible()

        section.get_by_label("Send to").fill("ftp://example.com/")
        section.get_by_role("button", name="Add webhook").click()
        expect(section.get_by_text("must be an http or https URL")).to_be_visible()
        section.get_by_label("Send to").fill(receiver.url)
        section.get_by_role("button", name="Add webhook").click()

        secret_shown = section.locator("code.webhook-secret")
        expect(secret_shown).to_contain_text("whsec_")
        secret = secret_shown.inner_text()
        expect(section.get_by_role("button", name="Copy secret")).to_be_visible()
        hook = (
            section.get_by_role("list", name="Your webhooks")
            .get_by_role("listitem")
            .filter(has_text=receiver.url)
        )
        expect(hook).to_contain_text("Nothing sent yet.")
        screenshot(page, "30-profile-webhook-added")

        page.locator("a[data-route=today]").click()
        page.get_by_role("button", name="Done: Stretch").click()
        # "Done at", not "Done": the button's own label says "Done" before the POST is sent.
        expect(page.get_by_role("listitem").filter(has_text="Stretch")).to_contain_text("Done at")
        page.locator("a[data-route=profile]").click()
        section = page.get_by_role("region", name="Webhooks")
        deliveries = section.get_by_role("list", name=f"Last deliveries to {receiver.url}")
        deadline = time.monotonic() + 20
        while "200" not in deliveries.inner_text() and time.monotonic() < deadline:
            time.sleep(0.5)
            section.get_by_role("button", name="Refresh deliveries").click()
        expect(deliveries).to_contain_text("200")
        expect(deliveries).to_contain_text("instance.updated")
        expect(section.locator("code.webhook-secret")).to_have_count(0)  # shown once only
        screenshot(page, "31-profile-webhook-delivered")

        [got] = receiver.requests
        payload = Verifier(secret).verify(got.body, got.headers)
        assert payload["type"] == "instance.updated"
        assert payload["data"]["action"] == "Stretch"
        assert payload["data"]["status"] == "completed"

        section.get_by_role("button", name=f"Turn off: {receiver.url}").click()
        expect(hook).to_contain_text("Off")
        section.get_by_role("button", name=f"Delete webhook: {receiver.url}").click()
        expect(section.get_by_text("No webhooks yet.")).to_be_visible()
    finally:
        receiver.close()
