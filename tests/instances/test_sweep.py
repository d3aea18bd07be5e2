"""The deadline sweep: transitions at exact deadlines, late sweeps, overlaps (C6, C8)."""

from datetime import UTC, date, datetime, time, timedelta
from time import monotonic, sleep

import pytest
from django.db import connection

from instances.models import HabitInstance, Status
from instances.services import instances_generate, instances_sweep, sweep
from instances.services.sweep import Shard, _move_due
from tests.concurrency import raised, run_together
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db

AT = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
GRACE = AT + timedelta(minutes=30)
FIX = GRACE + timedelta(minutes=120)
US = timedelta(microseconds=1)


@pytest.fixture
def instance(user) -> HabitInstance:
    return make_instance(
        HabitFactory(user=user, start_date=date(2026, 6, 15)), date(2026, 6, 15), AT
    )


def _status_after_sweep(instance, now) -> str:
    instances_sweep(now=now)
    instance.refresh_from_db()
    return instance.status


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (AT - US, Status.SCHEDULED),
        (AT, Status.PENDING),
        (GRACE, Status.PENDING),
        (GRACE + US, Status.MISSED),
        (FIX, Status.MISSED),
        (FIX + US, Status.FIX_EXPIRED),
    ],
    ids=["before", "at-time", "at-grace", "past-grace", "at-fix", "past-fix"],
)
def test_the_sweep_moves_an_instance_to_what_the_clock_says(instance, now, status):
    assert _status_after_sweep(instance, now) == status


def test_successive_sweeps_walk_the_whole_machine(instance):
    assert [_status_after_sweep(instance, now) for now in (AT, GRACE + US, FIX + US)] == [
        Status.PENDING,
        Status.MISSED,
        Status.FIX_EXPIRED,
    ]


def test_done_instances_are_never_touched(instance):
    HabitInstance.objects.filter(pk=instance.pk).update(status=Status.COMPLETED, completed_at=AT)

    assert _status_after_sweep(instance, FIX + timedelta(days=1)) == Status.COMPLETED


def test_a_sweep_twice_changes_each_instance_once_and_tells_once(
    instance, user, events_of, django_capture_on_commit_callbacks
):
    probe = events_of(user)
    with django_capture_on_commit_callbacks(execute=True):
        first = instances_sweep(now=AT)
        second = instances_sweep(now=AT)

    assert (first, second) == (1, 0)
    updates = probe.of_type("instance.updated")
    assert [u["data"]["status"] for u in updates] == ["pending"]


def test_a_sweep_of_many_instances_groups_the_frames_per_user(
    user, events_of, django_capture_on_commit_callbacks
):
    for _ in range(30):
        make_instance(HabitFactory(user=user, start_date=date(2026, 6, 15)), date(2026, 6, 15), AT)
    probe = events_of(user)

    with django_capture_on_commit_callbacks(execute=True):
        assert instances_sweep(now=AT) == 30

    assert len(probe.of_type("instance.updated")) == 30


@pytest.mark.django_db(transaction=True)
def test_overlapping_sweeps_change_each_instance_once(user):
    for _ in range(200):
        make_instance(HabitFactory(user=user, start_date=date(2026, 6, 15)), date(2026, 6, 15), AT)
    moved = run_together(*[lambda: instances_sweep(now=GRACE + US)] * 3)

    assert raised(moved) == []
    assert sum(moved) == 200
    assert set(HabitInstance.objects.values_list("status", flat=True)) == {Status.MISSED}


def test_after_26_hours_without_worker_and_beat_everything_is_resolved_once():
    habit = HabitFactory(time_of_day=time(8, 0), start_date=date(2026, 6, 1))
    down_at = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
    instances_generate(now=down_at)  # the 15th and 16th exist, scheduled
    back_at = down_at + timedelta(hours=26)  # 09:00 on the 16th

    instances_generate(now=back_at)
    instances_sweep(now=back_at)

    by_date = dict(HabitInstance.objects.filter(habit=habit).values_list("date", "status"))
    assert by_date == {
        date(2026, 6, 15): Status.FIX_EXPIRED,  # its whole fix window passed while we were down
        date(2026, 6, 16): Status.MISSED,  # 08:00 + 30 min grace passed; fixable until 10:30
        date(2026, 6, 17): Status.SCHEDULED,
    }


def _client_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


def _settled_connections(at_most: int, seconds: float = 5.0) -> int:
    """The test database's client connections, once at most `at_most` (a closed one takes a
    moment to leave pg_stat_activity), or as many as remain after `seconds`."""
    deadline = monotonic() + seconds
    while (count := _client_connections()) > at_most and monotonic() < deadline:
        sleep(0.05)
    return count


@pytest.fixture
def runs_of_two(monkeypatch):
    """Shards take habits in runs of two (of 1,024 in a tick, where a test's few habits would
    fall in one shard, or two)."""
    monkeypatch.setattr(sweep, "HABITS_A_RUN", 2)


@pytest.mark.django_db(transaction=True)
def test_a_tick_in_shards_moves_and_tells_every_owner_once(events_of, runs_of_two):
    owners = UserFactory.create_batch(5)
    for user in owners:
        for _ in range(3):  # 15 consecutive habit ids: every one of three shards
            make_instance(HabitFactory(user=user, start_date=AT.date()), AT.date(), AT)
    probes = {user.pk: events_of(user) for user in owners}
    before = _client_connections()

    assert instances_sweep(now=AT, shards=3) == 15

    assert set(HabitInstance.objects.values_list("status", flat=True)) == {Status.PENDING}
    for probe in probes.values():
        assert [u["data"]["status"] for u in probe.of_type("instance.updated")] == ["pending"] * 3
    # Each shard's connection closed with its thread: none outlives the tick.
    assert _settled_connections(at_most=before) <= before


def test_a_shard_takes_the_due_rows_of_its_habits_alone(user, runs_of_two):
    """Shard k of 3 takes the runs of consecutive habit ids whose number is k modulo 3."""
    habits = [HabitFactory(user=user, start_date=AT.date()) for _ in range(12)]
    for habit in habits:
        make_instance(habit, AT.date(), AT)

    moved = {k: {row.habit_id for row in _move_due(AT, Shard(k, 3))} for k in range(3)}

    assert moved == {k: {h.pk for h in habits if h.pk // 2 % 3 == k} for k in range(3)}
