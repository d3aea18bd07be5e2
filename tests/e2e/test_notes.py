"""Notes in the browser (SPEC §8): written on Today, seen live on another page, edited on the
habit's recent days; one too long is refused next to the field."""

import re
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from instances.models import HabitInstance
from tests.e2e.conftest import (
    Backend,
    TwoDevices,
    screenshot,
    today_row,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _note_of(user: User) -> str:
    return HabitInstance.objects.get(user=user, date=timezone.now().date()).note


def test_a_note_written_on_today_shows_live_elsewhere_and_one_too_long_is_refused(
    two_devices: Callable[[str], TwoDevices], backend: Backend
):
    user, phone, laptop, loads = two_devices("Swim")

    phone.get_by_role("button", name="Add note: Swim").click()
    editor = phone.get_by_role("form", name="Note on Swim")
    note = editor.get_by_label("Note", exact=True)
    expect(note).to_be_focused()
    note.fill("Cold water, 20 lengths")
    editor.get_by_role("button", name="Save note: Swim").click()

    expect(editor).to_have_count(0)
    expect(today_row(phone, "Swim")).to_contain_text("Note: Cold water, 20 lengths")
    expect(phone.get_by_role("button", name="Edit note: Swim")).to_be_focused()
    expect(today_row(laptop, "Swim")).to_contain_text("Note: Cold water, 20 lengths")
    expect(laptop.get_by_role("button", name="Edit note: Swim")).to_be_visible()
    screenshot(laptop, "19-today-note")

    # Too long: the API's 422 lands under the field, nothing is written, the draft stays.
    phone.get_by_role("button", name="Edit note: Swim").click()
    expect(note).to_have_value("Cold water, 20 lengths")
    note.fill("x" * 1001)
    expect(editor).to_contain_text("1,001 / 1,000")
    editor.get_by_role("button", name="Save note: Swim").click()

    expect(note).to_have_accessible_description(re.compile("at most 1000 characters"))
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(note).to_be_focused()
    expect(note).to_have_value("x" * 1001)
    expect(today_row(laptop, "Swim")).to_contain_text("Note: Cold water, 20 lengths")
    assert backend.run(_note_of, user) == "Cold water, 20 lengths"
    screenshot(phone, "20-today-note-too-long")
    phone.keyboard.press("Escape")  # cancels: the note stays as it was
    expect(editor).to_have_count(0)
    expect(phone.get_by_role("button", name="Edit note: Swim")).to_be_focused()

    # The habit's recent days show it, and an edit there reaches Today on the phone.
    laptop.get_by_role("link", name="Swim").click()
    days = laptop.get_by_role("list", name="Recent days")
    expect(days).to_contain_text("Note: Cold water, 20 lengths")
    days.get_by_role("button", name=re.compile("^Edit note: ")).click()
    day_editor = laptop.get_by_role("form", name=re.compile("^Note on "))
    day_editor.get_by_label("Note", exact=True).fill("Cold, then 25 lengths")
    day_editor.get_by_role("button", name=re.compile("^Save note: ")).click()

    expect(days).to_contain_text("Note: Cold, then 25 lengths")
    expect(today_row(phone, "Swim")).to_contain_text("Note: Cold, then 25 lengths")
    screenshot(laptop, "21-habit-day-note")

    # Saved empty, the note goes, everywhere.
    phone.get_by_role("button", name="Edit note: Swim").click()
    note.fill("")
    editor.get_by_role("button", name="Save note: Swim").click()
    expect(phone.get_by_role("button", name="Add note: Swim")).to_be_visible()
    expect(days).not_to_contain_text("Note:")
    assert backend.run(_note_of, user) == ""
    assert loads == []  # nobody reloaded
