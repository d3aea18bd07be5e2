"""SPEC §2 habit rules, through the API (422 naming the field) and in the database."""

import datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction

from habits.models import Habit
from tests.factories import HabitFactory, PleasantHabitFactory, UserFactory

pytestmark = pytest.mark.django_db

HABITS = "/api/habits/"
USEFUL = {"action": "read 10 pages", "time_of_day": "21:30", "reward_text": "a square of chocolate"}


def _named(response) -> set[tuple]:
    assert response.status_code == 422, response.content
    return {tuple(item["loc"]) for item in response.json()["detail"]}


def test_a_useful_habit_with_a_reward_text_is_created_with_the_defaults(authed, user):
    response = authed.post(HABITS, USEFUL)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["time_of_day"] == "21:30"
    assert (body["periodicity_days"], body["repeat_limit"]) == (1, 21)
    assert (body["grace_minutes"], body["fix_minutes"]) == (30, 120)
    assert (body["is_public"], body["is_active"], body["is_pleasant"]) == (False, True, False)
    assert Habit.objects.get(pk=body["id"]).user == user


def test_start_date_defaults_to_today_in_the_owners_timezone(api):
    # 23:30 UTC on the 1st is already the 2nd in Kiritimati (UTC+14) and still the 1st in UTC.
    far_east = UserFactory(timezone="Pacific/Kiritimati")
    with time_machine.travel(datetime.datetime(2026, 3, 1, 23, 30, tzinfo=datetime.UTC)):
        api.login(far_east.email)
        body = api.post(HABITS, USEFUL).json()

    assert body["start_date"] == "2026-03-02"


def test_a_useful_habit_may_be_rewarded_by_an_own_pleasant_habit(authed, user):
    bath = PleasantHabitFactory(user=user)

    response = authed.post(
        HABITS, {**USEFUL, "reward_text": None, "related_pleasant_habit": bath.pk}
    )

    assert response.status_code == 201
    assert response.json()["related_pleasant_habit"] == bath.pk


def test_a_useful_habit_without_a_reward_names_both_fields(authed):
    named = _named(authed.post(HABITS, {**USEFUL, "reward_text": None}))

    assert named == {("body", "reward_text"), ("body", "related_pleasant_habit")}


def test_a_useful_habit_with_both_rewards_names_both_fields(authed, user):
    bath = PleasantHabitFactory(user=user)

    named = _named(authed.post(HABITS, {**USEFUL, "related_pleasant_habit": bath.pk}))

    assert named == {("body", "reward_text"), ("body", "related_pleasant_habit")}


def test_a_pleasant_habit_with_a_reward_text_is_refused(authed):
    named = _named(authed.post(HABITS, {**USEFUL, "is_pleasant": True}))

    assert named == {("body", "reward_text")}


def test_a_pleasant_habit_pointing_to_another_is_refused(authed, user):
    bath = PleasantHabitFactory(user=user)
    payload = {
        **USEFUL,
        "is_pleasant": True,
        "reward_text": None,
        "related_pleasant_habit": bath.pk,
    }

    assert _named(authed.post(HABITS, payload)) == {("body", "related_pleasant_habit")}


def test_a_pleasant_habit_needs_no_reward(authed):
    response = authed.post(HABITS, {**USEFUL, "is_pleasant": True, "reward_text": None})

    assert response.status_code == 201


def test_the_related_habit_must_be_pleasant(authed, user):
    useful = HabitFactory(user=user)

    named = _named(
        authed.post(HABITS, {**USEFUL, "reward_text": None, "related_pleasant_habit": useful.pk})
    )

    assert named == {("body", "related_pleasant_habit")}


def test_the_related_habit_must_be_the_owners(authed):
    strangers = PleasantHabitFactory()

    response = authed.post(
        HABITS, {**USEFUL, "reward_text": None, "related_pleasant_habit": strangers.pk}
    )

    assert _named(response) == {("body", "related_pleasant_habit")}
    assert not Habit.objects.filter(related_pleasant_habit=strangers).exists()


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("periodicity_days", 4),
        ("periodicity_days", 0),
        ("repeat_limit", 22),
        ("grace_minutes", 721),
        ("grace_minutes", -1),
        ("fix_minutes", 1441),
        ("action", ""),
        ("action", "x" * 256),
        ("place", "x" * 256),
        ("reward_text", "x" * 256),
        ("reward_text", ""),
        ("time_of_day", "25:00"),
        ("time_of_day", "08:30:15"),
        ("time_of_day", "08:30+02:00"),
        ("start_date", "2025-02-30"),
        ("related_pleasant_habit", 2**70),
    ],
)
def test_each_out_of_range_value_is_422_naming_its_field(authed, field, bad):
    assert _named(authed.post(HABITS, {**USEFUL, field: bad})) == {("body", field)}
    assert not Habit.objects.exists()


@pytest.mark.parametrize("bad", [25200, 7.5, "7:30"])
def test_a_time_that_is_not_hh_mm_text_is_told_the_form(authed, bad):
    response = authed.post(HABITS, {**USEFUL, "time_of_day": bad})

    assert response.status_code == 422, response.content
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "time_of_day"]
    assert problem["msg"] == "Value error, must be a local time HH:MM, without seconds or an offset"


@pytest.mark.parametrize(
    ("field", "good"),
    [("periodicity_days", p) for p in (1, 2, 3, 5, 7)]
    + [("repeat_limit", n) for n in (21, 30, 45)]
    + [("grace_minutes", 0), ("grace_minutes", 720), ("fix_minutes", 1440)],
)
def test_each_allowed_value_is_accepted(authed, field, good):
    response = authed.post(HABITS, {**USEFUL, field: good})

    assert response.status_code == 201
    assert response.json()[field] == good


# --- the same rules, with the model layer bypassed -------------------------------------------


def _raw_insert(**fields) -> None:
    with transaction.atomic():
        Habit.objects.bulk_create([Habit(**fields)])


@pytest.mark.parametrize(
    "fields",
    [
        {"is_pleasant": True, "reward_text": "cake"},
        {"is_pleasant": False, "reward_text": None},
        {"reward_text": ""},
        {"periodicity_days": 4},
        {"repeat_limit": 60},
        {"grace_minutes": 721},
        {"fix_minutes": 1441},
        {"action": ""},
    ],
    ids=[
        "pleasant-with-reward",
        "useful-without-reward",
        "empty-reward",
        "periodicity",
        "repeat-limit",
        "grace",
        "fix",
        "empty-action",
    ],
)
def test_the_database_refuses_a_habit_breaking_a_rule(user, fields):
    base = {
        "user": user,
        "action": "run",
        "time_of_day": datetime.time(7),
        "reward_text": "tea",
        "start_date": datetime.date(2026, 1, 1),
    }

    with pytest.raises(IntegrityError):
        _raw_insert(**{**base, **fields})


def test_the_database_refuses_both_rewards(user):
    bath = PleasantHabitFactory(user=user)

    with pytest.raises(IntegrityError):
        _raw_insert(
            user=user,
            action="run",
            time_of_day=datetime.time(7),
            reward_text="tea",
            related_pleasant_habit=bath,
            start_date=datetime.date(2026, 1, 1),
        )


def test_the_database_refuses_another_users_pleasant_habit_as_reward(user):
    strangers = PleasantHabitFactory()

    with pytest.raises(IntegrityError):
        _raw_insert(
            user=user,
            action="run",
            time_of_day=datetime.time(7),
            related_pleasant_habit=strangers,
            start_date=datetime.date(2026, 1, 1),
        )


def test_the_database_refuses_a_useful_habit_as_reward(user):
    useful = HabitFactory(user=user)

    with pytest.raises(IntegrityError):
        _raw_insert(
            user=user,
            action="run",
            time_of_day=datetime.time(7),
            related_pleasant_habit=useful,
            start_date=datetime.date(2026, 1, 1),
        )


def test_the_database_refuses_turning_a_referenced_pleasant_habit_useful(user):
    bath = PleasantHabitFactory(user=user)
    HabitFactory(user=user, reward_text=None, related_pleasant_habit=bath)

    with pytest.raises(IntegrityError), transaction.atomic():
        Habit.objects.filter(pk=bath.pk).update(is_pleasant=False, reward_text="soap")


def test_the_database_refuses_deleting_a_referenced_pleasant_habit(user):
    from django.db import connection

    bath = PleasantHabitFactory(user=user)
    HabitFactory(user=user, reward_text=None, related_pleasant_habit=bath)

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM habits_habit WHERE id = %s", [bath.pk])
