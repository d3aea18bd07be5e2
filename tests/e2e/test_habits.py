"""Managing habits in the browser: rewards, editing, pausing, refusals, the public feed."""

import re
from datetime import time

import pytest
from playwright.sync_api import expect

from accounts.models import User
from habits.services import habit_create
from tests.e2e.conftest import Backend, Pages, Server, habit_card, screenshot, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _user_with_a_rewarded_habit() -> User:
    user = UserFactory()
    bath = habit_create(
        user=user, data={"action": "Take a bath", "time_of_day": time(21, 0), "is_pleasant": True}
    )
    habit_create(
        user=user,
        data={
            "action": "Run 5 km",
            "place": "in the park",
            "time_of_day": time(23, 59),
            "related_pleasant_habit": bath.pk,
        },
    )
    return user


def test_a_pleasant_habit_can_reward_a_useful_one_and_then_cannot_be_deleted(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(UserFactory)
    page = pages.new(server.url + "/#/habits")
    sign_in(page, user.email)

    page.get_by_label("I will…").fill("Listen to one album")
    page.get_by_label("At what time").fill("20:00")
    page.get_by_role("radio", name=re.compile("^Pleasant")).check()
    expect(page.get_by_label("A treat")).to_be_hidden()  # a pleasant habit has no reward
    page.get_by_role("button", name="Create habit").click()
    expect(habit_card(page, "Listen to one album")).to_contain_text("Pleasant: its own reward")
    # The card may come first by the socket; the form clears when the answer arrives.
    expect(page.get_by_label("I will…")).to_have_value("")

    page.get_by_label("I will…").fill("Tidy the desk")
    page.get_by_label("At what time").fill("19:00")
    page.get_by_label("A treat").fill("a biscuit")
    page.get_by_label("One of your pleasant habits").select_option(label="Listen to one album")
    page.get_by_role("button", name="Create habit").click()
    message = re.compile("one reward: a treat or one of your pleasant habits, not both")
    expect(page.get_by_label("A treat")).to_have_accessible_description(message)
    expect(page.get_by_label("One of your pleasant habits")).to_have_accessible_description(message)

    page.get_by_label("A treat").fill("")
    page.get_by_role("button", name="Create habit").click()
    expect(habit_card(page, "Tidy the desk")).to_contain_text("Reward: Listen to one album")

    album = habit_card(page, "Listen to one album")
    album.get_by_role("button", name="Delete").click()
    album.get_by_role("button", name="Yes, delete").click()
    expect(album.get_by_role("alert")).to_contain_text("This pleasant habit is the reward of")
    expect(album.get_by_role("alert")).to_contain_text("Tidy the desk")
    screenshot(page, "10-habits-delete-refused")


def test_editing_pausing_and_deleting_a_habit(server: Server, pages: Pages, backend: Backend):
    user = backend.run(_user_with_a_rewarded_habit)
    page = pages.new(server.url + "/")
    sign_in(page, user.email)
    expect(page.get_by_role("listitem").filter(has_text="Run 5 km")).to_be_visible()

    page.get_by_role("link", name="Habits", exact=True).click()
    run = habit_card(page, "Run 5 km")
    expect(run).to_contain_text("Reward: Take a bath")
    run.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit “Run 5 km”")).to_be_visible()
    page.get_by_label("I will…").fill("Run 3 km")
    page.get_by_role("button", name="Save changes").click()
    run = habit_card(page, "Run 3 km")
    expect(run).to_contain_text("in the park")
    expect(page.get_by_role("heading", name="New habit")).to_be_visible()

    run.get_by_role("button", name="Pause").click()
    expect(run.get_by_text("Paused")).to_be_visible()
    expect(run.get_by_role("button", name="Resume")).to_be_visible()
    page.get_by_role("link", name="Today", exact=True).click()
    expect(page.get_by_role("listitem").filter(has_text="Run 3 km")).to_have_count(0)

    page.get_by_role("link", name="Habits", exact=True).click()
    run = habit_card(page, "Run 3 km")
    run.get_by_role("button", name="Delete").click()
    run.get_by_role("button", name="Yes, delete").click()
    expect(habit_card(page, "Run 3 km")).to_have_count(0)
    # With nothing pointing at it any more, the pleasant habit can go too.
    bath = habit_card(page, "Take a bath")
    bath.get_by_role("button", name="Delete").click()
    bath.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_text("No habits yet.")).to_be_visible()


def test_the_public_feed_shows_shared_habits_without_owners(
    server: Server, pages: Pages, backend: Backend
):
    def shared() -> User:
        owner = UserFactory(email="owner@example.com")
        habit_create(
            user=owner,
            data={
                "action": "Write three lines in a journal",
                "time_of_day": time(22, 0),
                "reward_text": "herbal tea",
                "is_public": True,
            },
        )
        habit_create(
            user=owner,
            data={"action": "Secret habit", "time_of_day": time(7, 0), "reward_text": "x"},
        )
        return owner

    backend.run(shared)
    page = pages.new(server.url + "/#/public")  # no account needed

    feed = page.get_by_role("list", name="Public habits")
    expect(feed.get_by_role("listitem")).to_have_count(1)
    expect(feed).to_contain_text("Write three lines in a journal")
    expect(feed).to_contain_text("Reward: herbal tea")
    expect(page.get_by_text("owner@example.com")).to_have_count(0)
    screenshot(page, "11-public")
