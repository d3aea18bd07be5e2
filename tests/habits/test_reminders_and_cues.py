"""Reminder offsets and cues on a habit (SPEC §8): the rules, at every door of the API."""

import pytest

from habits.models import Habit
from tests.factories import HabitFactory, UserFactory

pytestmark = pytest.mark.django_db

HABITS = "/api/habits/"
NEW = {"action": "Stretch", "time_of_day": "07:30", "reward_text": "tea"}


def _fields(response) -> set[str]:
    return {str(part) for item in response.json()["detail"] for part in item["loc"]}


def test_a_new_habit_is_reminded_at_its_time_by_default(authed):
    body = authed.post(HABITS, NEW).json()

    assert body["reminders"] == [0]
    assert body["cue_habit_id"] is None
    assert body["cue_delay_minutes"] == 0


def test_offsets_are_kept_in_order(authed):
    body = authed.post(HABITS, {**NEW, "reminders": [45, -30, 0]}).json()

    assert body["reminders"] == [-30, 0, 45]
    assert Habit.objects.get(pk=body["id"]).reminders == [-30, 0, 45]


@pytest.mark.parametrize(
    "reminders",
    [
        [],  # empty
        [0, 0],  # duplicates
        [0, 1, 2, 3, 4, 5],  # more than five
        [-721],  # more than 12 h before
        [151],  # past grace (30) + fix (120)
        ["soon"],
        None,
    ],
)
def test_bad_offsets_are_422_naming_reminders_and_nothing_is_written(authed, reminders):
    response = authed.post(HABITS, {**NEW, "reminders": reminders})

    assert response.status_code == 422
    assert "reminders" in _fields(response)
    assert not Habit.objects.exists()


def test_the_latest_offset_follows_grace_and_fix(authed):
    assert authed.post(HABITS, {**NEW, "reminders": [-720, 150]}).status_code == 201
    wide = {**NEW, "grace_minutes": 720, "fix_minutes": 1440, "reminders": [2160]}
    assert authed.post(HABITS, wide).status_code == 201


def test_a_patch_sets_offsets_and_a_bad_one_changes_nothing(authed, user):
    habit = HabitFactory(user=user)

    assert authed.patch(f"{HABITS}{habit.pk}/", {"reminders": [10, -10]}).json()["reminders"] == [
        -10,
        10,
    ]
    response = authed.patch(f"{HABITS}{habit.pk}/", {"reminders": [-10, 10, 10]})
    assert response.status_code == 422
    assert "reminders" in _fields(response)
    # Shrinking the windows under an offset is refused too, naming the offsets.
    response = authed.patch(f"{HABITS}{habit.pk}/", {"fix_minutes": 0, "grace_minutes": 5})
    assert response.status_code == 422
    assert "reminders" in _fields(response)
    habit.refresh_from_db()
    assert (habit.reminders, habit.grace_minutes) == ([-10, 10], 30)


def test_a_cue_is_one_of_your_own_habits(authed, user):
    coffee = HabitFactory(user=user, action="Coffee")
    body = authed.post(HABITS, {**NEW, "cue_habit_id": coffee.pk, "cue_delay_minutes": 5}).json()

    assert (body["cue_habit_id"], body["cue_delay_minutes"]) == (coffee.pk, 5)
    others = HabitFactory(user=UserFactory())
    for missing in (others.pk, 999_999):
        response = authed.post(HABITS, {**NEW, "cue_habit_id": missing})
        assert response.status_code == 422
        assert "cue_habit_id" in _fields(response)


@pytest.mark.parametrize("delay", [-1, 241])
def test_a_cue_delay_out_of_range_is_422(authed, delay):
    response = authed.post(HABITS, {**NEW, "cue_delay_minutes": delay})

    assert response.status_code == 422
    assert "cue_delay_minutes" in _fields(response)


def test_a_cycle_of_cues_at_any_length_is_422(authed, user):
    a = HabitFactory(user=user)
    b = HabitFactory(user=user, cue_habit=a)
    c = HabitFactory(user=user, cue_habit=b)

    for habit, cue in ((a, a), (a, b), (a, c)):  # itself, two long, three long
        response = authed.patch(f"{HABITS}{habit.pk}/", {"cue_habit_id": cue.pk})
        assert response.status_code == 422, cue
        assert "cue_habit_id" in _fields(response)
    a.refresh_from_db()
    assert a.cue_habit_id is None
    # Not a cycle: two habits stacked on the same cue, or moving the chain's start.
    assert authed.patch(f"{HABITS}{c.pk}/", {"cue_habit_id": a.pk}).status_code == 200


def test_deleting_the_cue_habit_clears_the_link(authed, user):
    coffee = HabitFactory(user=user)
    stretch = HabitFactory(user=user, cue_habit=coffee, cue_delay_minutes=10)

    assert authed.delete(f"{HABITS}{coffee.pk}/").status_code == 204

    body = authed.get(f"{HABITS}{stretch.pk}/").json()
    assert body["cue_habit_id"] is None
    assert authed.patch(f"{HABITS}{stretch.pk}/", {"cue_habit_id": None}).status_code == 200


def test_the_habit_frame_carries_the_offsets_and_the_cue(
    authed, user, events_of, django_capture_on_commit_callbacks
):
    coffee = HabitFactory(user=user)
    habit = HabitFactory(user=user)
    probe = events_of(user)

    with django_capture_on_commit_callbacks(execute=True):
        body = authed.patch(
            f"{HABITS}{habit.pk}/",
            {"reminders": [-5, 0], "cue_habit_id": coffee.pk, "cue_delay_minutes": 15},
        ).json()

    (event,) = probe.of_type("habit.")
    assert event["type"] == "habit.updated"
    assert event["data"] == body
    assert (body["reminders"], body["cue_habit_id"], body["cue_delay_minutes"]) == (
        [-5, 0],
        coffee.pk,
        15,
    )


def test_a_refused_patch_sends_no_frame(
    authed, user, events_of, django_capture_on_commit_callbacks
):
    habit = HabitFactory(user=user)
    probe = events_of(user)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert authed.patch(f"{HABITS}{habit.pk}/", {"reminders": [1, 1]}).status_code == 422

    assert callbacks == []
    assert probe.drain() == []
