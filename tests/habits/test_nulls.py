"""E4: an explicit `null` for a field that cannot be null is a 422 naming it, on create and on
a partial update. A partial update (PATCH) makes every field optional, and `null` for one the
model keeps blank-able (`place`) reached the database's NOT NULL: a misleading 409."""

import pytest

from habits.models import Habit
from tests.factories import HabitFactory, PleasantHabitFactory

pytestmark = pytest.mark.django_db

HABITS = "/api/habits/"
USEFUL = {"action": "stretch", "time_of_day": "07:15", "reward_text": "coffee"}
NOT_NULL = [
    "action", "place", "time_of_day", "is_pleasant", "periodicity_days", "repeat_limit",
    "grace_minutes", "fix_minutes", "is_public", "is_active", "reminders", "cue_delay_minutes",
]  # fmt: skip


def _named(response) -> list[list]:
    assert response.status_code == 422, response.content
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize("field", [*NOT_NULL, "start_date"])
def test_null_for_a_field_that_cannot_be_null_is_a_422_naming_it_on_patch(authed, user, field):
    habit = HabitFactory(user=user)
    before = Habit.objects.values().get(pk=habit.pk)

    response = authed.patch(f"{HABITS}{habit.pk}/", {field: None})

    assert ["body", field] in _named(response)
    assert Habit.objects.values().get(pk=habit.pk) == before


@pytest.mark.parametrize("field", NOT_NULL)
def test_null_for_a_field_that_cannot_be_null_is_a_422_naming_it_on_create(authed, field):
    response = authed.post(HABITS, {**USEFUL, field: None})

    assert ["body", field] in _named(response)
    assert not Habit.objects.exists()


def test_the_nullable_fields_still_take_null(authed, user):
    bath = PleasantHabitFactory(user=user)
    habit = HabitFactory(user=user)
    url = f"{HABITS}{habit.pk}/"

    to_habit = authed.patch(url, {"reward_text": None, "related_pleasant_habit": bath.pk})
    to_text = authed.patch(url, {"related_pleasant_habit": None, "reward_text": "tea"})
    created = authed.post(HABITS, {**USEFUL, "related_pleasant_habit": None, "start_date": None})

    assert (to_habit.status_code, to_habit.json()["reward_text"]) == (200, None)
    assert (to_text.status_code, to_text.json()["related_pleasant_habit"]) == (200, None)
    assert created.status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [("reminders", [False]), ("reminders", [0, True]), ("grace_minutes", True),
     ("cue_delay_minutes", False), ("periodicity_days", True)],
)  # fmt: skip
def test_true_or_false_for_a_number_is_a_422_naming_it(authed, user, field, value):
    """Pydantic reads `true` as 1 for a number: `reminders: [false]` became "on time"."""
    habit = HabitFactory(user=user)
    before = Habit.objects.values().get(pk=habit.pk)

    created = authed.post(HABITS, {**USEFUL, field: value})
    patched = authed.patch(f"{HABITS}{habit.pk}/", {field: value})

    assert ["body", field] in _named(created)
    assert ["body", field] in _named(patched)
    assert list(Habit.objects.values()) == [before]


def test_a_boolean_field_still_takes_true_and_false(authed):
    response = authed.post(HABITS, {**USEFUL, "is_public": True, "is_active": False})

    assert response.status_code == 201
    assert (response.json()["is_public"], response.json()["is_active"]) == (True, False)
