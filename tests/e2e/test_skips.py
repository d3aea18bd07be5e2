"""Skips and pauses in the browser (SPEC §7): skip a day with a reason and undo it, pause every
habit from the profile page and end the pause — each change seen live on another page."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from habits.models import Habit
from instances.models import HabitInstance, Status
from tests.e2e.conftest import (
    Backend,
    Pages,
    Server,
    TwoDevices,
    habit_later_today,
    screenshot,
    sign_in,
    today_row,
)
from tests.factories import UserFactory, make_instance

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_skip_with_a_reason_shows_on_another_page_live_and_can_be_undone(
    two_devices: Callable[[str], TwoDevices],
):
    _, phone, laptop, loads = two_devices("Swim")

    # The keyboard alone: the Skip button opens the picker with the reason focused, and
    # Escape closes it, back on the button.
    phone.get_by_role("button", name="Skip: Swim").focus()
    phone.keyboard.press("Enter")
    picker = phone.get_by_role("form", name="Skip Swim")
    expect(picker.get_by_label("Why skip it?")).to_be_focused()
    phone.keyboard.press("Escape")
    expect(picker).to_have_count(0)
    expect(phone.get_by_role("button", name="Skip: Swim")).to_be_focused()
    phone.keyboard.press("Enter")
    reason = picker.get_by_label("Why skip it?")
    expect(reason).to_be_focused()
    reason.select_option("sick")
    screenshot(phone, "12-today-skip-picker")
    picker.get_by_role("button", name="Skip it: Swim").click()

    expect(today_row(phone, "Swim")).to_contain_text("Skipped (sick)")
    expect(phone.get_by_role("button", name="Undo skip: Swim")).to_be_focused()
    expect(phone.get_by_role("button", name="Done: Swim")).to_have_count(0)
    expect(today_row(laptop, "Swim")).to_contain_text("Skipped (sick)")
    expect(laptop.get_by_text("Nothing due")).to_be_visible()
    expect(laptop.get_by_text("· 1 skipped")).to_be_visible()
    screenshot(laptop, "13-today-skipped")

    # The habit's page counts it apart: neither done nor missed.
    laptop.get_by_role("link", name="Swim").click()
    expect(laptop.get_by_role("group", name="Success rate")).to_contain_text("1 skipped")
    expect(laptop.get_by_role("img", name=re.compile("Skipped: 1"))).to_be_visible()
    expect(laptop.get_by_role("list", name="Recent days")).to_contain_text("Skipped (sick)")
    laptop.go_back()

    phone.get_by_role("button", name="Undo skip: Swim").click()

    expect(today_row(phone, "Swim")).to_contain_text("Upcoming")
    expect(today_row(laptop, "Swim")).to_contain_text("Upcoming")
    expect(laptop.get_by_role("button", name="Done: Swim")).to_be_visible()
    expect(laptop.get_by_role("button", name="Skip: Swim")).to_be_visible()
    assert loads == []  # nobody reloaded


def test_a_pause_of_every_habit_skips_today_live_and_ending_it_brings_it_back(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(habit_later_today, "Journal")[0]
    today_page = pages.new(server.url + "/")
    sign_in(today_page, user.email)
    expect(today_row(today_page, "Journal")).to_contain_text("Upcoming")
    profile = pages.new(server.url + "/#/profile")
    sign_in(profile, user.email)
    pauses = profile.get_by_role("region", name="Pauses")
    expect(pauses.get_by_text("No pause under way or to come.")).to_be_visible()

    today = timezone.now().date()
    pauses.get_by_label("What to pause").select_option(label="Every habit")
    pauses.get_by_label("From").fill((today - timedelta(days=1)).isoformat())
    pauses.get_by_label("Until").fill((today + timedelta(days=3)).isoformat())
    pauses.get_by_label("Reason").select_option("travel")
    pauses.get_by_role("button", name="Pause", exact=True).click()

    pause = pauses.get_by_role("list", name="Your pauses").get_by_role("listitem")
    # The list held one item before too: "No pause under way or to come."
    expect(pause.filter(has_text="No pause under way")).to_have_count(0)
    expect(pause).to_have_count(1)
    expect(pause).to_contain_text("Every habit")
    expect(pause).to_contain_text("Travel")
    expect(pause).to_contain_text("Under way")
    expect(today_row(today_page, "Journal")).to_contain_text("Skipped (travel)")
    expect(today_row(today_page, "Journal")).to_contain_text("Paused until")
    # A pause keeps it skipped: no undo here, the way back is the pause.
    expect(today_page.get_by_role("button", name="Undo skip: Journal")).to_have_count(0)
    expect(
        today_row(today_page, "Journal").get_by_role("link", name="Manage pauses")
    ).to_be_visible()
    screenshot(profile, "14-profile-pause")
    screenshot(today_page, "15-today-paused")

    pause.get_by_role("button", name=re.compile("^End now: Every habit")).click()

    expect(pauses.get_by_text("No pause under way or to come.")).to_be_visible()
    expect(today_row(today_page, "Journal")).to_contain_text("Upcoming")
    expect(today_page.get_by_role("button", name="Done: Journal")).to_be_visible()


def test_a_pause_to_come_is_listed_live_and_can_be_deleted(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(habit_later_today, "Stretch")[0]
    profile = pages.new(server.url + "/#/profile")
    sign_in(profile, user.email)
    other = pages.new(server.url + "/#/profile")
    sign_in(other, user.email)
    pauses = profile.get_by_role("region", name="Pauses")

    later = timezone.now().date() + timedelta(days=10)
    pauses.get_by_label("What to pause").select_option(label="Stretch")
    pauses.get_by_label("From").fill(later.isoformat())
    pauses.get_by_label("Until").fill(later.isoformat())
    pauses.get_by_role("button", name="Pause", exact=True).click()

    listed = other.get_by_role("region", name="Pauses").get_by_role("listitem")
    expect(listed).to_contain_text("Stretch")
    expect(listed).to_contain_text("To come")
    expect(listed).to_contain_text("Rest")  # the default reason

    listed.get_by_role("button", name=re.compile("^Delete: Stretch")).click()

    expect(pauses.get_by_text("No pause under way or to come.")).to_be_visible()
    expect(other.get_by_text("No pause under way or to come.")).to_be_visible()


def _habit_twelve_days_into_a_course_of_21(action: str) -> User:
    """A daily course of 21: twelve done, two expired, one skipped, today and tomorrow ahead."""
    user = habit_later_today(action)[0]
    habit = Habit.objects.get(user=user)
    today = timezone.now().date()
    Habit.objects.filter(pk=habit.pk).update(start_date=today - timedelta(days=15), repeat_limit=21)
    history = ["C"] * 6 + ["X", "K"] + ["C"] * 3 + ["X"] + ["C"] * 3
    for days_ago, mark in zip(range(15, 0, -1), history, strict=True):
        on = today - timedelta(days=days_ago)
        at = timezone.now() - timedelta(days=days_ago)
        status = {"C": Status.COMPLETED, "X": Status.FIX_EXPIRED, "K": Status.SKIPPED}[mark]
        make_instance(habit, on, at, status=status)
    return user


def test_a_habit_page_shows_how_far_its_course_has_come(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(_habit_twelve_days_into_a_course_of_21, "Cycle")
    page = pages.new(server.url + "/")
    sign_in(page, user.email)

    page.get_by_role("link", name="Cycle").click()

    program = page.get_by_role("group", name="Program")
    expect(program).to_contain_text("12 of 21")
    # 12 + 2 counted, 1 skipped (the course is a day longer), today and tomorrow open: 5 left.
    expect(program).to_contain_text("2 missed · 1 skipped · 5 to come")
    expect(program.get_by_role("progressbar")).to_have_attribute("aria-valuetext", "12 of 21 done")


def _habit_on_the_last_day_of_its_course(action: str) -> User:
    """A daily course of 21: twenty days done, today the last."""
    user = habit_later_today(action)[0]
    habit = Habit.objects.get(user=user)
    today = timezone.now().date()
    Habit.objects.filter(pk=habit.pk).update(start_date=today - timedelta(days=20), repeat_limit=21)
    HabitInstance.objects.filter(habit=habit).exclude(date=today).delete()
    for days_ago in range(20, 0, -1):
        at = timezone.now() - timedelta(days=days_ago)
        make_instance(habit, today - timedelta(days=days_ago), at, status=Status.COMPLETED,
                      completed_at=at)  # fmt: skip
    return user


def test_finishing_a_course_is_a_moment_on_the_page(server: Server, pages: Pages, backend: Backend):
    user = backend.run(_habit_on_the_last_day_of_its_course, "Meditate")
    page = pages.new(server.url + "/")
    sign_in(page, user.email)
    page.get_by_role("link", name="Meditate").click()
    expect(page.get_by_role("group", name="Program")).to_contain_text("20 of 21")
    phone = pages.new(server.url + "/")
    sign_in(phone, user.email)

    phone.get_by_role("button", name="Done: Meditate").click()

    expect(page.get_by_text("“Meditate” is finished: 21 of 21 done")).to_be_visible()
    expect(page.get_by_role("group", name="Program")).to_contain_text("Finished")
    screenshot(page, "18-course-finished")


def test_a_pause_that_ends_before_it_starts_is_refused_next_to_the_end_date(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(UserFactory)
    page = pages.new(server.url + "/#/profile")
    sign_in(page, user.email)
    pauses = page.get_by_role("region", name="Pauses")
    today = timezone.now().date()

    pauses.get_by_label("From").fill((today + timedelta(days=5)).isoformat())
    pauses.get_by_label("Until").fill((today + timedelta(days=2)).isoformat())
    pauses.get_by_role("button", name="Pause", exact=True).click()

    until = pauses.get_by_label("Until")
    expect(until).to_have_accessible_description(re.compile("on or after the first day"))
    expect(until).to_have_attribute("aria-invalid", "true")
    expect(until).to_be_focused()
    expect(pauses.get_by_label("From")).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, "16-profile-pause-refused")

    pauses.get_by_label("Until").fill((today + timedelta(days=6)).isoformat())
    pauses.get_by_role("button", name="Pause", exact=True).click()
    expect(pauses.get_by_role("listitem")).to_contain_text("To come")
    expect(until).not_to_have_attribute("aria-invalid", "true")
