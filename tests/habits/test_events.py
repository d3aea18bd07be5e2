"""Each habit change registers exactly one event, sent to the owner after commit."""

import pytest

from tests.factories import HabitFactory, PleasantHabitFactory, UserFactory

pytestmark = pytest.mark.django_db

HABITS = "/api/habits/"
USEFUL = {"action": "stretch", "time_of_day": "07:15", "reward_text": "coffee"}


def test_create_sends_one_habit_created_to_the_owner_only(
    authed, user, events_of, django_capture_on_commit_callbacks
):
    mine, theirs = events_of(user), events_of(UserFactory())

    with django_capture_on_commit_callbacks(execute=True):
        body = authed.post(HABITS, USEFUL).json()
        assert mine.drain(wait=0.1) == []  # nothing leaves before the commit

    events = mine.of_type("habit.")
    assert [e["type"] for e in events] == ["habit.created"]
    assert events[0]["data"] == body
    assert theirs.drain() == []


def test_update_sends_one_habit_updated(
    authed, user, events_of, django_capture_on_commit_callbacks
):
    habit = HabitFactory(user=user)
    probe = events_of(user)

    with django_capture_on_commit_callbacks(execute=True):
        authed.patch(f"{HABITS}{habit.pk}/", {"place": "balcony"})

    events = probe.of_type("habit.")
    assert [e["type"] for e in events] == ["habit.updated"]
    assert events[0]["data"]["place"] == "balcony"


def test_an_update_that_changes_nothing_sends_nothing(
    authed, user, events_of, django_capture_on_commit_callbacks
):
    habit = HabitFactory(user=user, place="home")
    probe = events_of(user)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert authed.patch(f"{HABITS}{habit.pk}/", {"place": "home"}).status_code == 200

    assert callbacks == []
    assert probe.drain() == []


def test_delete_sends_one_habit_deleted_with_the_id(
    authed, user, events_of, django_capture_on_commit_callbacks
):
    habit = HabitFactory(user=user)
    probe = events_of(user)

    with django_capture_on_commit_callbacks(execute=True):
        authed.delete(f"{HABITS}{habit.pk}/")

    assert probe.of_type("habit.") == [{"type": "habit.deleted", "data": {"id": habit.pk}}]


def test_refused_changes_send_nothing(authed, user, events_of, django_capture_on_commit_callbacks):
    bath = PleasantHabitFactory(user=user)
    HabitFactory(user=user, reward_text=None, related_pleasant_habit=bath)
    probe = events_of(user)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert authed.delete(f"{HABITS}{bath.pk}/").status_code == 409
        assert authed.post(HABITS, {**USEFUL, "reward_text": None}).status_code == 422

    assert callbacks == []
    assert probe.drain() == []


@pytest.mark.django_db(transaction=True)
def test_the_event_leaves_only_after_the_commit(user, events_of):
    from django.db import transaction

    from habits.services import habit_update

    habit = HabitFactory(user=user)
    probe = events_of(user)

    with transaction.atomic():
        habit_update(habit=habit, data={"place": "garden"})
        assert probe.drain(wait=0.2) == []

    assert [e["type"] for e in probe.of_type("habit.")] == ["habit.updated"]
