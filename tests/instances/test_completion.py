"""The completion table of SPEC §2, through the service and the REST API."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import Conflict
from instances.models import HabitInstance, Source, Status
from instances.services import instance_complete
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db

AT = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)  # scheduled; grace until 08:30, fix until 10:30
DAY = date(2026, 6, 15)


@pytest.fixture
def instance(user) -> HabitInstance:
    habit = HabitFactory(user=user, time_of_day=time(8, 0), start_date=DAY)
    return make_instance(habit, DAY, AT)


def _complete(instance, at):
    with time_machine.travel(at, tick=False):
        return instance_complete(
            instance_id=instance.pk, user_id=instance.user_id, at=at, source=Source.WEB
        )


@pytest.mark.parametrize(
    ("at", "status"),
    [
        (datetime(2026, 6, 15, 0, 1, tzinfo=UTC), Status.COMPLETED),  # early, on its date
        (AT, Status.COMPLETED),
        (AT + timedelta(minutes=30), Status.COMPLETED),  # the grace deadline itself
        (AT + timedelta(minutes=30, seconds=1), Status.COMPLETED_LATE),
        (AT + timedelta(minutes=150), Status.COMPLETED_LATE),  # the fix deadline itself
    ],
    ids=["early-on-its-date", "on-time", "at-grace", "just-late", "at-fix"],
)
def test_the_clock_decides_completed_or_completed_late(instance, at, status):
    done = _complete(instance, at)

    assert (done.status, done.completed_at, done.source) == (status, at, Source.WEB)


def test_completion_is_decided_by_the_clock_even_if_the_sweep_already_said_missed(instance):
    HabitInstance.objects.filter(pk=instance.pk).update(status=Status.MISSED)

    assert _complete(instance, AT + timedelta(minutes=29)).status == Status.COMPLETED


def test_past_the_fix_window_it_is_refused_and_ends_fix_expired(instance):
    with pytest.raises(Conflict):
        _complete(instance, AT + timedelta(minutes=150, seconds=1))

    instance.refresh_from_db()
    assert (instance.status, instance.completed_at) == (Status.FIX_EXPIRED, None)


def test_a_skipped_instance_is_refused_and_stays_skipped(instance):
    HabitInstance.objects.filter(pk=instance.pk).update(status=Status.SKIPPED, skip_reason="sick")

    with pytest.raises(Conflict, match="skipped"):
        _complete(instance, AT)

    instance.refresh_from_db()
    assert (instance.status, instance.completed_at) == (Status.SKIPPED, None)


def test_an_instance_on_a_future_local_date_cannot_be_done(user):
    habit = HabitFactory(user=user, start_date=DAY)
    tomorrow = make_instance(habit, DAY + timedelta(days=1), AT + timedelta(days=1))

    with pytest.raises(Conflict):
        _complete(tomorrow, AT)

    tomorrow.refresh_from_db()
    assert tomorrow.status == Status.SCHEDULED


def test_the_future_is_judged_in_the_owners_timezone():
    east = UserFactory(timezone="Pacific/Kiritimati")
    habit = HabitFactory(user=east, start_date=DAY)
    # 12:00Z on the 15th is already 02:00 on the 16th in Kiritimati.
    tomorrow = make_instance(
        habit, DAY + timedelta(days=1), datetime(2026, 6, 15, 13, 0, tzinfo=UTC)
    )

    assert _complete(tomorrow, datetime(2026, 6, 15, 12, 0, tzinfo=UTC)).status == Status.COMPLETED


def test_completing_twice_changes_nothing_and_sends_one_event(
    instance, user, events_of, django_capture_on_commit_callbacks
):
    probe = events_of(user)
    with django_capture_on_commit_callbacks(execute=True):
        first = _complete(instance, AT)
        second = _complete(instance, AT + timedelta(minutes=40))

    assert (second.status, second.completed_at) == (Status.COMPLETED, first.completed_at)
    updates = probe.of_type("instance.updated")
    assert len(updates) == 1
    assert updates[0]["data"]["status"] == "completed"


# --- REST --------------------------------------------------------------------------------------


def test_complete_over_rest_answers_the_instance(user, api):
    habit = HabitFactory(user=user, time_of_day=time(8, 0), start_date=DAY, action="stretch")
    instance = make_instance(habit, DAY, AT)
    with time_machine.travel(AT + timedelta(minutes=5), tick=False):
        api.login(user.email)
        response = api.post(f"/api/instances/{instance.pk}/complete/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "completed"
    assert body["source"] == "web"
    assert body["action"] == "stretch"
    assert body["completed_at"].startswith("2026-06-15T08:05:00")


def test_complete_over_rest_reads_and_writes_the_row_once(user, api, instance):
    """The owner check is the locking read itself; no reminder was ever sent for it."""
    with time_machine.travel(AT + timedelta(minutes=5), tick=False):
        api.login(user.email)
        api.get("/api/auth/me/")  # the token's state cached
        with CaptureQueriesContext(connection) as ctx:
            response = api.post(f"/api/instances/{instance.pk}/complete/")

    assert response.status_code == 200
    # The test transaction's savepoint pair, the locking read (the owner check is in it, and
    # the habit is locked with it, so a completion of the last other open one racing this
    # one reads it committed), the one UPDATE, and one probe read for every reaction
    # (config/change_probe.py: reminded? stacked? hooked? may the course have finished?),
    # each answered no here. After the commit nothing is read: the frame's data, the owner
    # and the habit came with the event.
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 3, statements


def test_complete_too_late_over_rest_is_409(user, api, instance):
    with time_machine.travel(AT + timedelta(hours=3), tick=False):
        api.login(user.email)
        response = api.post(f"/api/instances/{instance.pk}/complete/")

    assert response.status_code == 409
    assert "fix window" in response.json()["detail"]


def test_completing_another_users_instance_is_404_and_changes_nothing(authed):
    theirs_habit = HabitFactory(user=UserFactory(), start_date=DAY)
    theirs = make_instance(theirs_habit, DAY, AT)

    assert authed.post(f"/api/instances/{theirs.pk}/complete/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.SCHEDULED


@pytest.mark.parametrize("path", ["0", "-5", "184467440737095516160", "x"])
def test_impossible_instance_ids_are_422_naming_the_path_field(authed, path):
    response = authed.post(f"/api/instances/{path}/complete/")

    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [["path", "instance_id"]]


def test_today_lists_own_active_instances_of_the_local_day_in_time_order(api):
    berlin = UserFactory(timezone="Europe/Berlin")
    late = HabitFactory(user=berlin, start_date=DAY)
    early = HabitFactory(user=berlin, start_date=DAY)
    paused = HabitFactory(user=berlin, start_date=DAY, is_active=False)
    make_instance(late, DAY, datetime(2026, 6, 15, 18, 0, tzinfo=UTC))
    make_instance(early, DAY, datetime(2026, 6, 15, 6, 0, tzinfo=UTC))
    make_instance(paused, DAY, datetime(2026, 6, 15, 7, 0, tzinfo=UTC))
    make_instance(early, DAY + timedelta(days=1), datetime(2026, 6, 16, 6, 0, tzinfo=UTC))
    make_instance(HabitFactory(start_date=DAY), DAY, datetime(2026, 6, 15, 5, 0, tzinfo=UTC))

    with time_machine.travel(
        datetime(2026, 6, 15, 22, 30, tzinfo=UTC), tick=False
    ):  # 00:30 on the 16th in Berlin
        api.login(berlin.email)
        tomorrow_in_berlin = api.get("/api/instances/today/").json()
    with time_machine.travel(datetime(2026, 6, 15, 12, 0, tzinfo=UTC), tick=False):
        api.login(berlin.email)
        today = api.get("/api/instances/today/").json()

    assert [i["habit_id"] for i in today] == [early.pk, late.pk]
    assert [i["habit_id"] for i in tomorrow_in_berlin] == [early.pk]


def test_habit_instances_are_listed_newest_first_and_paginated(user, authed):
    habit = HabitFactory(user=user, start_date=DAY)
    for n in range(5):
        make_instance(habit, DAY + timedelta(days=n), AT + timedelta(days=n))

    body = authed.get(f"/api/habits/{habit.pk}/instances/?limit=2").json()

    assert body["count"] == 5
    assert [i["date"] for i in body["items"]] == ["2026-06-19", "2026-06-18"]


def test_another_users_habit_instances_are_404(authed):
    assert authed.get(f"/api/habits/{HabitFactory().pk}/instances/").status_code == 404
