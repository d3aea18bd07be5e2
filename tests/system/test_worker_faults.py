"""Real Celery processes meeting real faults: a worker killed mid-generation (C3, with C1),
the database or Redis away during a task (C5), beat down for a while (C8)."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.conf import settings
from django.db.models import Count
from django_celery_beat.models import PeriodicTask

from config.celery import NamespacedCelery
from core.redis import key
from instances.beat_schedules import schedules_install
from instances.clock import status_by_clock
from instances.models import HabitInstance, Status
from instances.services import GENERATION_LOCK_KEY
from tests.factories import HabitFactory, make_instance
from tests.system.conftest import System
from tests.system.harness import PgProxy, PrivateRedis, wait_until

pytestmark = pytest.mark.slow

HABITS = 5
UNACKED = key("celery", "unacked")  # kombu's hash of delivered, unacknowledged tasks


def send(redis_url: str, task: str) -> None:
    """Enqueue as beat would: by name, on the system's own broker (in its namespace: the
    system inherits the test run's REDIS_NAMESPACE)."""
    client = NamespacedCelery("probe", broker=redis_url)
    try:
        client.send_task(task)
    finally:
        client.close()


class GenerationLock:
    """Holds the lock every generation run takes first, so a test can catch one mid-way."""

    def __init__(self) -> None:
        db = settings.DATABASES["default"]
        self.connection = psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
        )
        self.connection.execute("SELECT pg_advisory_lock(%s)", [GENERATION_LOCK_KEY])

    def someone_waits(self) -> bool:
        row = self.connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
        return row is not None and row[0] > 0

    def release(self) -> None:
        self.connection.execute("SELECT pg_advisory_unlock(%s)", [GENERATION_LOCK_KEY])

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def generation_lock(transactional_db: None) -> Iterator[GenerationLock]:
    lock = GenerationLock()
    yield lock
    lock.close()


def today_and_tomorrow_once_each() -> bool:
    per_day = HabitInstance.objects.values("habit", "date").annotate(n=Count("id"))
    days = {(row["habit"], row["date"]) for row in per_day}
    return len(days) == HABITS * 2 and all(row["n"] == 1 for row in per_day)


def test_a_worker_killed_mid_generation_runs_it_again_after_a_restart(
    system: System, private_redis: PrivateRedis, generation_lock: GenerationLock
):
    HabitFactory.create_batch(HABITS, start_date=datetime.now(UTC).date() - timedelta(days=3))
    system.start_worker()
    send(private_redis.url, "instances.generate")
    wait_until(generation_lock.someone_waits, 20, "the generation blocked inside its transaction")

    system.kill("worker")

    assert HabitInstance.objects.count() == 0  # its transaction died with it
    assert private_redis.client().hlen(UNACKED) == 1  # acks_late: the task is not lost
    generation_lock.release()
    time.sleep(3.5)  # past the visibility timeout (3 s here)
    system.start_worker()

    wait_until(today_and_tomorrow_once_each, 30, "each habit's today and tomorrow, once")
    wait_until(lambda: private_redis.client().hlen(UNACKED) == 0, 10, "the task acknowledged")
    assert system.log("worker").count("Task instances.generate[") >= 2  # received, then again


def test_a_database_outage_during_a_task_is_retried_a_few_times_then_logged_not_looped(
    system: System, private_redis: PrivateRedis, pg_proxy: PgProxy
):
    HabitFactory.create_batch(HABITS, start_date=datetime.now(UTC).date())
    system.start_worker()
    pg_proxy.cut()

    send(private_redis.url, "instances.generate")

    wait_until(lambda: "raised unexpected" in system.log("worker"), 30, "the task given up")
    retries = system.log("worker").count("retry: Retry in")
    assert retries == 3  # TASK_MAX_RETRIES here
    assert "OperationalError" in system.log("worker")
    time.sleep(4)
    assert system.log("worker").count("retry: Retry in") == retries  # no loop
    assert system.log("worker").count("raised unexpected") == 1

    pg_proxy.restore()
    send(private_redis.url, "instances.generate")

    wait_until(today_and_tomorrow_once_each, 30, "the next run generating everything")
    assert system.alive("worker")


def test_redis_away_during_a_task_keeps_its_work_and_the_worker_reconnects_alone(
    system: System, private_redis: PrivateRedis, generation_lock: GenerationLock
):
    HabitFactory.create_batch(HABITS, start_date=datetime.now(UTC).date())
    system.start_worker()
    send(private_redis.url, "instances.generate")
    wait_until(generation_lock.someone_waits, 20, "the generation under way")

    private_redis.stop()
    generation_lock.release()

    # The work is the database's: it commits; only its live announcements are lost.
    wait_until(today_and_tomorrow_once_each, 30, "the generation committed without Redis")
    private_redis.start()
    now = datetime.now(UTC)
    due = make_instance(HabitFactory(start_date=now.date()), now.date(), now - timedelta(minutes=1))
    send(private_redis.url, "instances.sweep")
    wait_until(
        lambda: HabitInstance.objects.get(pk=due.pk).status == Status.PENDING,
        30,
        "the worker consuming again after Redis came back",
    )
    assert system.alive("worker")


def test_beat_down_for_26_hours_then_back_catches_up_once(system: System):
    system.start_worker()
    now = datetime.now(UTC)
    habit = HabitFactory(start_date=now.date() - timedelta(days=3))
    unseen = make_instance(habit, (now - timedelta(hours=26)).date(), now - timedelta(hours=26))
    # Beat's only state is its schedule rows: as if it last ran 26 h ago and was down since.
    schedules_install()
    PeriodicTask.objects.update(last_run_at=now - timedelta(hours=26))

    system.start_beat()
    back = time.monotonic()

    wait_until(
        lambda: HabitInstance.objects.filter(habit=habit).count() == 3,
        30,
        "today's and tomorrow's instances created",
    )
    wait_until(
        lambda: HabitInstance.objects.get(pk=unseen.pk).status == Status.FIX_EXPIRED,
        30,
        "the instance whose whole window passed unseen resolved",
    )
    time.sleep(2)
    for instance in HabitInstance.objects.filter(habit=habit).exclude(pk=unseen.pk):
        expected = status_by_clock(
            instance.scheduled_at, instance.grace_deadline, instance.fix_deadline, datetime.now(UTC)
        )
        assert instance.status == expected, instance.date
    beat = system.log("beat")
    # One catch-up run of each, not one per tick missed in 26 hours (then the sweep's own
    # 30 s period, should this machine be slow).
    assert beat.count("Sending due task Generate habit instances") == 1
    sweeps = beat.count("Sending due task Sweep instance deadlines")
    assert 1 <= sweeps <= 1 + (time.monotonic() - back) // 30
