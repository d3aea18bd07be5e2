"""Real Celery processes meeting real faults: a worker killed mid-generation (C3, with C1),
the database or the broker away during a task (C5), beat down for a while (C8).

Each runs on both brokers (ids `redis` and `rabbitmq`): the private Redis, or the machine's
RabbitMQ (behind a proxy the test can cut) with this run's own queue and exchanges. A
RabbitMQ that does not answer fails these tests; it is never skipped."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.conf import settings
from django.db.models import Count
from django_celery_beat.models import PeriodicTask
from kombu import Exchange, Queue

from config.celery import NamespacedCelery
from core.redis import key_prefix
from instances.beat_schedules import schedules_install
from instances.clock import status_by_clock
from instances.models import HabitInstance, Status
from instances.services import GENERATION_LOCK_KEY
from tests.factories import HabitFactory, make_instance
from tests.system.conftest import Broker, System, broker_of
from tests.system.harness import PgProxy, PrivateRedis, RabbitBroker, RedisBroker, wait_until

pytestmark = pytest.mark.slow

HABITS = 5


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest, private_redis: PrivateRedis) -> Iterator[Broker]:
    """Every test here on each broker (overrides tests/system/conftest.py's Redis-only one)."""
    yield from broker_of(request.param, private_redis)


def send(broker_url: str, task: str) -> None:
    """Enqueue as beat would: by name, on the system's own broker (in its namespace: the
    system inherits the test run's REDIS_NAMESPACE)."""
    client = NamespacedCelery("probe", broker=broker_url, set_as_current=False)
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


def test_tasks_travel_by_the_chosen_broker_in_this_runs_own_names(
    system: System, broker: Broker, private_redis: PrivateRedis
):
    now = datetime.now(UTC)
    due = make_instance(HabitFactory(start_date=now.date()), now.date(), now - timedelta(minutes=1))
    system.start_worker()

    send(broker.url, "instances.sweep")

    wait_until(
        lambda: HabitInstance.objects.get(pk=due.pk).status == Status.PENDING, 30, "the sweep ran"
    )
    celery_keys = list(private_redis.client().scan_iter(match=key_prefix("celery") + "*"))
    if isinstance(broker, RabbitBroker):
        # The run's queue on RabbitMQ, the worker consuming it; nothing of Celery in Redis.
        assert broker.declared() == (0, 1)
        assert celery_keys == []
    else:
        assert celery_keys  # kombu's queue bindings under the namespace


@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_another_installations_tasks_on_the_same_rabbitmq_are_left_alone(
    system: System, broker: RabbitBroker
):
    """Two installations (two test runs) on one RabbitMQ: only their names differ."""
    HabitFactory.create_batch(HABITS, start_date=datetime.now(UTC).date())
    other = "aht:another-installation:celery"  # what config/celery.py names it there
    exchange = Exchange(other, type="direct")
    queue = Queue(other, exchange, routing_key=other)
    probe = NamespacedCelery("probe", broker=broker.url, set_as_current=False)
    try:
        probe.send_task("instances.generate", queue=queue)
        system.start_worker()
        time.sleep(3)
        assert HabitInstance.objects.count() == 0
        channel = broker.connection.default_channel
        assert channel.queue_declare(other, passive=True).message_count == 1
    finally:
        probe.close()
        broker.connection.default_channel.queue_delete(other)
        broker.connection.default_channel.exchange_delete(other)


def test_a_worker_killed_mid_generation_runs_it_again_after_a_restart(
    system: System, broker: Broker, generation_lock: GenerationLock
):
    HabitFactory.create_batch(HABITS, start_date=datetime.now(UTC).date() - timedelta(days=3))
    system.start_worker()
    send(broker.url, "instances.generate")
    wait_until(generation_lock.someone_waits, 20, "the generation blocked inside its transaction")

    system.kill("worker")

    assert HabitInstance.objects.count() == 0  # its transaction died with it
    # acks_late: the task is not lost. Redis holds it as unacknowledged until the visibility
    # timeout; RabbitMQ queues it again as soon as the dead worker's connection drops.
    wait_until(lambda: broker.kept() == 1, 10, "the broker keeping the task")
    generation_lock.release()
    if isinstance(broker, RedisBroker):
        time.sleep(3.5)  # past the visibility timeout (3 s here)
    system.start_worker()

    wait_until(today_and_tomorrow_once_each, 30, "each habit's today and tomorrow, once")
    wait_until(lambda: broker.kept() == 0, 10, "the task acknowledged")
    assert system.log("worker").count("Task instances.generate[") >= 2  # received, then again


def test_a_database_outage_during_a_task_is_retried_a_few_times_then_logged_not_looped(
    system: System, broker: Broker, pg_proxy: PgProxy
):
    HabitFactory.create_batch(HABITS, start_date=datetime.now(UTC).date())
    system.start_worker()
    pg_proxy.cut()

    send(broker.url, "instances.generate")

    wait_until(lambda: "raised unexpected" in system.log("worker"), 30, "the task given up")
    retries = system.log("worker").count("retry: Retry in")
    assert retries == 3  # TASK_MAX_RETRIES here
    assert "OperationalError" in system.log("worker")
    time.sleep(4)
    assert system.log("worker").count("retry: Retry in") == retries  # no loop
    assert system.log("worker").count("raised unexpected") == 1

    pg_proxy.restore()
    send(broker.url, "instances.generate")

    wait_until(today_and_tomorrow_once_each, 30, "the next run generating everything")
    assert system.alive("worker")


def test_the_broker_away_during_a_task_keeps_its_work_and_the_worker_reconnects_alone(
    system: System, broker: Broker, generation_lock: GenerationLock
):
    """On Redis, the broker is also the cache and the channel layer: all of them go."""
    HabitFactory.create_batch(HABITS, start_date=datetime.now(UTC).date())
    system.start_worker()
    send(broker.url, "instances.generate")
    wait_until(generation_lock.someone_waits, 20, "the generation under way")

    broker.stop()
    generation_lock.release()

    # The work is the database's: it commits; only its live announcements are lost.
    wait_until(today_and_tomorrow_once_each, 30, "the generation committed without the broker")
    broker.start()
    now = datetime.now(UTC)
    due = make_instance(HabitFactory(start_date=now.date()), now.date(), now - timedelta(minutes=1))
    send(broker.url, "instances.sweep")
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
