"""The program on every habit answer, and finishing it (SPEC §7): `program` in REST and in
the habit frames, `program.finished` recorded once, seen as `habit.updated`."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from config.dispatch import Dispatcher
from habits.models import Habit
from instances.events import PROGRAM_FINISHED
from instances.models import HabitInstance, Source, Status
from instances.services import instance_complete, instances_sweep, programs_settle, sweep
from tests.concurrency import raised, run_together
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOON.date()
HABITS = "/api/habits/"


@pytest.fixture
def recorded(monkeypatch):
    """The types and facts of every event recorded during the test."""
    events = []
    within = Dispatcher.within

    def spy(self, event):
        events.append(event)
        within(self, event)

    monkeypatch.setattr(Dispatcher, "within", spy)
    return events


@pytest.fixture
def at_noon(api, user):
    """The owner's client, logged in on the test's day at noon (the clock stays there)."""
    with time_machine.travel(NOON, tick=False):
        api.login(user.email)
        yield api


def _finished_events(recorded) -> list[dict]:
    return [event.facts for event in recorded if event.type == PROGRAM_FINISHED]


def _history(habit, statuses, *, last_at: datetime | None = None):
    """Instances on the habit's grid dates in these statuses, ending today."""
    made = []
    for k, status in enumerate(statuses):
        on = TODAY - timedelta(days=len(statuses) - 1 - k)
        at = datetime.combine(on, habit.time_of_day, UTC)
        made.append(make_instance(habit, on, at, status=status))
    return made


def _habit(user, statuses, **fields):
    habit = HabitFactory(
        user=user,
        start_date=TODAY - timedelta(days=len(statuses) - 1),
        time_of_day=time(11, 50),
        **fields,
    )
    return habit, _history(habit, statuses)


MIXED = [
    *[Status.COMPLETED] * 2,
    Status.COMPLETED_LATE,
    Status.FIX_EXPIRED,
    Status.SKIPPED,
    Status.SKIPPED,
    Status.MISSED,
]


def test_a_habit_answer_carries_its_program(authed, user):
    habit, _ = _habit(user, MIXED)

    body = authed.get(f"{HABITS}{habit.pk}/").json()

    assert body["program"] == {
        "limit": 21,
        "done": 3,
        "failed": 2,
        "skipped": 2,
        "remaining": 21 - 5,  # seven generated, two of them skipped
        "finished": False,
    }


def test_the_list_carries_each_habits_program(authed, user):
    busy, _ = _habit(user, MIXED)
    fresh = HabitFactory(user=user, repeat_limit=30)

    items = {item["id"]: item for item in authed.get(HABITS).json()["items"]}

    assert items[busy.pk]["program"]["done"] == 3
    assert items[fresh.pk]["program"] == {
        "limit": 30, "done": 0, "failed": 0, "skipped": 0, "remaining": 30, "finished": False,
    }  # fmt: skip


def test_create_and_update_answer_with_the_program(at_noon):
    created = at_noon.post(
        HABITS, {"action": "run", "time_of_day": "18:00", "reward_text": "tea"}
    ).json()
    updated = at_noon.patch(f"{HABITS}{created['id']}/", {"repeat_limit": 30}).json()

    assert created["program"]["remaining"] == 19  # today and tomorrow generated
    assert updated["program"]["limit"] == 30
    assert updated["program"]["remaining"] == 28


def test_the_habit_frame_carries_the_program(
    authed, user, events_of, django_capture_on_commit_callbacks
):
    habit, _ = _habit(user, MIXED)
    probe = events_of(user)

    with django_capture_on_commit_callbacks(execute=True):
        authed.patch(f"{HABITS}{habit.pk}/", {"place": "balcony"})

    [frame] = probe.of_type("habit.")
    assert frame["data"]["program"]["skipped"] == 2
    assert frame["data"]["program"]["remaining"] == 16


def test_completing_the_last_occurrence_finishes_the_program_once(
    at_noon, user, recorded, events_of, django_capture_on_commit_callbacks
):
    habit, made = _habit(user, [*[Status.COMPLETED] * 19, Status.FIX_EXPIRED, Status.PENDING])
    probe = events_of(user)

    with django_capture_on_commit_callbacks(execute=True):
        first = at_noon.post(f"/api/instances/{made[-1].pk}/complete/")
        again = at_noon.post(f"/api/instances/{made[-1].pk}/complete/")

    assert (first.status_code, again.status_code) == (200, 200)
    assert _finished_events(recorded) == [
        {"habit_id": habit.pk, "user_id": user.pk, "done": 20, "limit": 21}
    ]
    [frame] = probe.of_type("habit.updated")
    assert frame["data"]["id"] == habit.pk
    assert frame["data"]["program"] == {
        "limit": 21, "done": 20, "failed": 1, "skipped": 0, "remaining": 0, "finished": True,
    }  # fmt: skip
    assert at_noon.get(f"{HABITS}{habit.pk}/").json()["program"]["finished"] is True


def test_an_occurrence_still_open_keeps_the_program_going(at_noon, user, recorded):
    habit, made = _habit(user, [*[Status.COMPLETED] * 19, Status.MISSED, Status.PENDING])

    at_noon.post(f"/api/instances/{made[-1].pk}/complete/")

    assert _finished_events(recorded) == []
    program = at_noon.get(f"{HABITS}{habit.pk}/").json()["program"]
    assert (program["remaining"], program["finished"]) == (0, False)


def test_the_sweep_expiring_the_last_occurrence_finishes_the_program(user, recorded):
    habit, made = _habit(user, [*[Status.COMPLETED] * 20, Status.MISSED])

    instances_sweep(now=made[-1].fix_deadline + timedelta(minutes=1))

    assert HabitInstance.objects.get(pk=made[-1].pk).status == Status.FIX_EXPIRED
    assert [facts["habit_id"] for facts in _finished_events(recorded)] == [habit.pk]
    assert Habit.objects.get(pk=habit.pk).program_finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_tick_in_shards_finishes_each_course_whose_last_two_it_expires(recorded, monkeypatch):
    """The tick runs its shards at once. Both of a habit's last open occurrences expire in it,
    for habits in each shard, one habit's rows naming two owners (moved by hand between the
    two). Each course finishes, told once: split by instance or by owner, two transactions
    could each expire one of the two and neither see the course end."""
    monkeypatch.setattr(sweep, "HABITS_A_RUN", 1)  # consecutive habits in alternate shards
    owners = UserFactory.create_batch(4)
    made = [
        _habit(user, [*[Status.COMPLETED] * 19, Status.MISSED, Status.MISSED]) for user in owners
    ]
    given, rows = made[0]
    Habit.objects.filter(pk=given.pk).update(user=owners[1])
    HabitInstance.objects.filter(pk=rows[-1].pk).update(user=owners[1])
    due_at = max(rows[-1].fix_deadline for _, rows in made) + timedelta(minutes=1)

    assert instances_sweep(now=due_at, shards=2) == 2 * len(made)

    finished = sorted(facts["habit_id"] for facts in _finished_events(recorded))
    assert finished == sorted(habit.pk for habit, _ in made)
    assert Habit.objects.filter(program_finished_at__isnull=True).count() == 0


def test_the_sweep_expiring_the_newest_leaves_a_course_with_an_older_open_one_going(user, recorded):
    """The sweep looks for open occurrences from its expired rows' date on; one of an
    earlier date still open (a longer fix window) keeps the course going all the same."""
    habit, made = _habit(user, [*[Status.COMPLETED] * 19, Status.MISSED, Status.MISSED])
    later = made[-1].fix_deadline + timedelta(days=1)
    HabitInstance.objects.filter(pk=made[-2].pk).update(fix_deadline=later)

    instances_sweep(now=made[-1].fix_deadline + timedelta(minutes=1))

    assert HabitInstance.objects.get(pk=made[-1].pk).status == Status.FIX_EXPIRED
    assert HabitInstance.objects.get(pk=made[-2].pk).status == Status.MISSED
    assert _finished_events(recorded) == []
    assert Habit.objects.get(pk=habit.pk).program_finished_at is None


def test_skipping_the_last_open_one_of_an_overfull_course_finishes_it(at_noon, user, recorded):
    """A course that had a 22nd occurrence before the limit went down (a lower limit keeps
    what is under way): skipping it leaves 21 counted, all resolved."""
    _, made = _habit(user, [*[Status.COMPLETED] * 21, Status.PENDING])

    response = at_noon.post(f"/api/instances/{made[-1].pk}/skip/", {"reason": "rest"})

    assert response.status_code == 200
    assert [facts["done"] for facts in _finished_events(recorded)] == [21]


def test_a_raised_limit_reopens_the_course_and_a_second_end_is_told_again(at_noon, user, recorded):
    habit, _ = _habit(user, [Status.COMPLETED] * 21)
    assert programs_settle(habit_ids=[habit.pk]) == [habit.pk]
    assert programs_settle(habit_ids=[habit.pk]) == []  # once

    body = at_noon.patch(f"{HABITS}{habit.pk}/", {"repeat_limit": 30}).json()

    assert body["program"]["finished"] is False
    assert Habit.objects.get(pk=habit.pk).program_finished_at is None
    at_noon.patch(f"{HABITS}{habit.pk}/", {"repeat_limit": 21})
    assert len(_finished_events(recorded)) == 2


@pytest.mark.django_db(transaction=True)
def test_the_last_two_open_ones_done_at_once_finish_the_program_once(user, recorded):
    """Web and bot finishing the last two at once: one `program.finished`, not two (nor none:
    the habit row is locked before the count, so the second reads the first's commit)."""
    habit, made = _habit(
        user, [*[Status.COMPLETED] * 19, Status.MISSED, Status.PENDING], fix_minutes=1440
    )

    def complete(instance):
        return lambda: instance_complete(
            instance_id=instance.pk, user_id=user.pk, at=NOON, source=Source.WEB
        )

    results = run_together(complete(made[-2]), complete(made[-1]))

    assert raised(results) == []
    assert [facts["habit_id"] for facts in _finished_events(recorded)] == [habit.pk]
