"""Celery for real: a worker process running the tasks (on each broker: Redis, RabbitMQ), the
beat rows, on-commit enqueueing."""

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from kombu import Connection, pools

from config.celery import app, rabbitmq_names
from core.presence import socket_opened
from core.redis import get_redis, key
from instances import tasks
from instances.beat_schedules import SCHEDULES, schedules_install
from instances.models import HabitInstance, Status
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from tests.factories import HabitFactory, make_instance
from tests.system.harness import RABBITMQ_URL, rabbitmq_clear

ROOT = Path(__file__).resolve().parents[2]
QUEUE = key("celery", "celery")  # the broker's default queue, under the namespace


@pytest.fixture(autouse=True)
def empty_queue() -> None:
    """Tasks an earlier test queued with no worker running are not this test's."""
    get_redis().delete(QUEUE)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The worker tests here on each broker (overrides tests/conftest.py's Redis-only one):
    the test process enqueues on it too. On RabbitMQ, this run's own queue, emptied before
    and removed after; a RabbitMQ that does not answer fails the test."""
    if request.param == "redis":
        yield settings.CELERY_BROKER_URL
        return
    with Connection(RABBITMQ_URL, connect_timeout=5) as connection:
        connection.ensure_connection(max_retries=1)
        rabbitmq_clear(connection, rabbitmq_names())
        with app_on(RABBITMQ_URL):
            yield RABBITMQ_URL
        rabbitmq_clear(connection, rabbitmq_names())


@contextmanager
def app_on(url: str) -> Iterator[None]:
    """The test process's Celery app on the broker at `url` for a while: its connections,
    queues and names made anew from it, and as before afterwards."""
    saved = {name: app.conf[name] for name in ("broker_url", *rabbitmq_names())}

    def anew() -> None:
        pools.reset()  # kombu's connection and producer pools, kept per broker URL
        app._pool = None
        for made in ("amqp", "control"):
            app.__dict__.pop(made, None)
        app._names_settled = False

    anew()
    app.conf.broker_url = url
    try:
        yield
    finally:
        anew()
        app.conf.update(saved)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the condition did not come true in time")


def test_a_real_worker_generates_and_sweeps_and_the_owner_hears_of_it(worker, user, events_of):
    habit = HabitFactory(user=user, start_date=datetime.now(UTC).date() - timedelta(days=1))
    probe = events_of(user)

    tasks.generate_instances.delay()
    wait_for(lambda: HabitInstance.objects.filter(habit=habit).count() == 2)

    HabitInstance.objects.filter(habit=habit).update(
        status=Status.SCHEDULED,
        scheduled_at=datetime.now(UTC) - timedelta(minutes=1),
        grace_deadline=datetime.now(UTC) + timedelta(minutes=30),
        fix_deadline=datetime.now(UTC) + timedelta(minutes=60),
    )
    tasks.sweep_instances.delay()
    wait_for(
        lambda: (
            set(HabitInstance.objects.filter(habit=habit).values_list("status", flat=True))
            == {Status.PENDING}
        )
    )

    updates = probe.of_type("instance.updated", wait=2.0)
    assert sorted(u["data"]["status"] for u in updates) == ["pending", "pending"]


def test_a_worker_sweep_owes_the_bound_owner_a_reminder_through_telegrams_own_task(worker, user):
    # The sweep knows nothing of Telegram: its `instance.updated` queues `telegram.decide`.
    TelegramProfile.objects.create(user=user, telegram_id=4242, access_hash=1, username="ann")
    now = datetime.now(UTC)
    habit = HabitFactory(user=user, start_date=now.date())
    instance = make_instance(habit, now.date(), now - timedelta(seconds=1))

    tasks.sweep_instances.delay()

    wait_for(lambda: OutboxMessage.objects.filter(instance=instance).exists())
    message = OutboxMessage.objects.get(instance=instance)
    assert (message.kind, message.telegram_id) == (OutboxKind.REMINDER, 4242)


def _queued_task_names() -> list[str]:
    return [json.loads(m)["headers"]["task"] for m in get_redis().lrange(QUEUE, 0, -1)]


@pytest.mark.django_db(transaction=True)
def test_a_completion_answers_before_its_stats_are_computed(authed, user, monkeypatch):
    from instances import stats_cache

    now = datetime.now(UTC)
    habit = HabitFactory(user=user, start_date=now.date())
    instance = make_instance(habit, now.date(), now - timedelta(minutes=1))
    assert authed.get(f"/api/habits/{habit.pk}/stats/").json()["done"] == 0  # now cached
    socket_opened(user.pk, "a-socket")  # someone is watching: fresh stats will be sent
    computed = []
    real = stats_cache.habit_stats_many  # what the refresh after a commit computes with
    monkeypatch.setattr(
        stats_cache, "habit_stats_many", lambda ids: computed.append(ids) or real(ids)
    )

    response = authed.post(f"/api/instances/{instance.pk}/complete/")

    assert response.status_code == 200
    assert computed == []  # not on the response path: a worker computes them
    assert _queued_task_names() == ["realtime.stats"]
    # ...and the cached numbers went with the commit: a reader computes fresh ones.
    assert authed.get(f"/api/habits/{habit.pk}/stats/").json()["done"] == 1


@pytest.mark.django_db
def test_the_schedule_set_up_twice_leaves_one_row_per_name_naming_registered_tasks():
    from django_celery_beat.models import PeriodicTask

    schedules_install()
    schedules_install()
    app.loader.import_default_modules()

    rows = PeriodicTask.objects.filter(name__in=[s.name for s in SCHEDULES])
    assert sorted(rows.values_list("name", flat=True)) == sorted(s.name for s in SCHEDULES)
    for row in rows:
        assert row.task in app.tasks, row.task
    sweep = rows.get(task="instances.sweep")
    assert sweep.interval.every <= 30  # reminders within 60 s of their moment


@pytest.mark.django_db
def test_the_set_up_keeps_an_admin_edit_of_the_timing():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    schedules_install()
    slower, _ = IntervalSchedule.objects.get_or_create(every=600, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(task="instances.generate").update(interval=slower)

    schedules_install()

    assert PeriodicTask.objects.get(task="instances.generate").interval.every == 600


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_in_a_rolled_back_transaction_is_never_sent():
    broker = get_redis()

    def enqueue_then_fail() -> None:
        with transaction.atomic():
            tasks.sweep_instances.delay_on_commit()
            raise RuntimeError("the request failed after enqueueing")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert broker.llen(QUEUE) == 0

    with transaction.atomic():
        tasks.sweep_instances.delay_on_commit()
        assert broker.llen(QUEUE) == 0
    assert broker.llen(QUEUE) == 1


@pytest.mark.django_db(transaction=True)
def test_a_habit_created_after_its_time_asks_telegram_to_decide_once_committed(user):
    from habits.services import habit_create

    noon = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    with time_machine.travel(noon, tick=False):
        habit_create(
            user=user,
            data={
                "action": "run",
                "time_of_day": time_of_day(11, 55),
                "reward_text": "tea",
                "start_date": noon.date(),
            },
        )
        habit_create(
            user=user,
            data={
                "action": "read",
                "time_of_day": time_of_day(20, 0),
                "reward_text": "tea",
                "start_date": noon.date(),
            },
        )

    assert _queued_task_names() == ["telegram.decide"]  # only the habit under way asked


def test_task_retry_policy_is_bounded():
    for task in (tasks.generate_instances, tasks.sweep_instances):
        assert task.max_retries == 5
        assert task.acks_late is True
        assert task.autoretry_for


@pytest.mark.django_db
def test_tasks_find_nothing_to_do_quietly(user):
    assert tasks.sweep_instances.apply().get() == 0
    make_instance(
        HabitFactory(user=user, start_date=date(2026, 6, 15)),
        date(2026, 6, 15),
        datetime(2026, 6, 15, 8, 0, tzinfo=UTC),
    )
    assert tasks.sweep_instances.apply().get() == 1
    assert tasks.sweep_instances.apply().get() == 0


def test_a_big_sweep_is_announced_by_a_worker_beside_it(worker, user, events_of):
    from instances.services import instances_sweep
    from realtime.frames import INLINE_ANNOUNCE_MAX

    now = datetime.now(UTC)
    count = INLINE_ANNOUNCE_MAX + 20
    for _ in range(count):
        make_instance(
            HabitFactory(user=user, start_date=now.date()), now.date(), now - timedelta(seconds=1)
        )
    probe = events_of(user)

    assert instances_sweep() == count  # committed; the fan-out is queued for the worker

    frames = probe.drain(wait=5.0)
    updates = [f for f in frames if f["type"] == "instance.updated"]
    assert len(updates) == count
    assert {u["data"]["status"] for u in updates} == {"pending"}
    assert len([f for f in frames if f["type"] == "stats.updated"]) == count
