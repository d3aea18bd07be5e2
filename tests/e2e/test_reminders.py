"""The habit form edits the reminder offsets and the cue (SPEC §8), the card says them in words;
the API's refusal shows on the field."""

import re
from datetime import time

import pytest
from playwright.sync_api import expect

from accounts.models import User
from habits.models import Habit
from habits.services import habit_create
from tests.e2e.conftest import Backend, Pages, Server, habit_card, screenshot, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _user_with_a_habit() -> User:
    user = UserFactory()
    habit_create(
        user=user, data={"action": "Stretch", "time_of_day": time(23, 59), "reward_text": "tea"}
    )
    return user


def _reminders_of(action: str) -> list[int]:
    return Habit.objects.get(action=action).reminders


def test_the_form_sets_edits_and_refuses_reminder_offsets(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(_user_with_a_habit)
    page = pages.new(server.url + "/#/habits")
    sign_in(page, user.email)

    stretch = habit_card(page, "Stretch")
    expect(stretch).to_contain_text("Reminder: on time")
    stretch.get_by_role("button", name="Edit").click()
    page.get_by_text("Schedule and deadlines").click()
    field = page.get_by_label("Reminders (min from its time)")
    expect(field).to_have_value("0")

    field.fill("0, 0")
    page.get_by_role("button", name="Save changes").click()
    expect(field).to_have_accessible_description(re.compile("distinct"))
    assert backend.run(_reminders_of, "Stretch") == [0]

    expect(stretch).to_contain_text("Reminder: on time")  # the refusal changed nothing

    field.fill("30, -90 0")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="New habit")).to_be_visible()
    assert backend.run(_reminders_of, "Stretch") == [-90, 0, 30]
    expect(stretch).to_contain_text("Reminders: 1 h 30 min before, on time, 30 min after")

    stretch.get_by_role("button", name="Edit").click()
    expect(page.get_by_label("Reminders (min from its time)")).to_have_value("-90, 0, 30")


def _user_with_two_habits() -> User:
    user = _user_with_a_habit()
    habit_create(
        user=user,
        data={"action": "Pour coffee", "time_of_day": time(23, 58), "reward_text": "smell"},
    )
    return user


def _cue_of(action: str) -> tuple[str | None, int]:
    habit = Habit.objects.select_related("cue_habit").get(action=action)
    return (habit.cue_habit.action if habit.cue_habit else None), habit.cue_delay_minutes


def test_the_form_stacks_a_habit_on_another_and_refuses_a_cycle(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(_user_with_two_habits)
    page = pages.new(server.url + "/#/habits")
    sign_in(page, user.email)

    habit_card(page, "Stretch").get_by_role("button", name="Edit").click()
    page.get_by_text("Schedule and deadlines").click()
    page.get_by_label("After which habit").select_option(label="Pour coffee")
    page.get_by_label("Remind me after (min)").fill("10")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="New habit")).to_be_visible()
    assert backend.run(_cue_of, "Stretch") == ("Pour coffee", 10)
    expect(habit_card(page, "Stretch")).to_contain_text("After Pour coffee, +10 min")
    expect(habit_card(page, "Pour coffee")).not_to_contain_text("After")
    screenshot(page, "22-habits-reminders-and-cue")

    habit_card(page, "Pour coffee").get_by_role("button", name="Edit").click()
    page.get_by_label("After which habit").select_option(label="Stretch")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_label("After which habit")).to_have_accessible_description(
        re.compile("cycle")
    )
    assert backend.run(_cue_of, "Pour coffee") == (None, 0)

    # The cue habit deleted: the link is cleared, and the card stops naming it.
    coffee = habit_card(page, "Pour coffee")
    coffee.get_by_role("button", name="Delete").click()
    coffee.get_by_role("button", name="Yes, delete").click()
    expect(coffee).to_have_count(0)
    expect(habit_card(page, "Stretch")).not_to_contain_text("After")
    assert backend.run(_cue_of, "Stretch") == (None, 10)
