"""Webhooks through the whole system: the web process owes the delivery with the change, a
real Celery worker sends it to a real receiver on the loopback, beat sends the retries and
takes over what a killed worker held."""

import itertools
import json
import time
from collections.abc import Iterator

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from standardwebhooks.webhooks import Webhook as Verifier

from accounts.models import User
from instances.beat_schedules import schedules_install
from tests.factories import HabitFactory, UserFactory, make_instance
from tests.system.conftest import System
from tests.system.harness import wait_until
from tests.webhooks.receiver import Receiver
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.slow

# Small delays: a retry a test can wait for, a claim a killed worker's successor outlives.
WEBHOOK_ENV = {
    "WEBHOOK_ALLOW_PRIVATE": "1",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.5",
    "WEBHOOK_LEASE_SECONDS": "3",
    "WEBHOOK_TIMEOUT_SECONDS": "5",
}


@pytest.fixture
def hooks_env(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    """Before `system`: its processes inherit the environment."""
    for name, value in WEBHOOK_ENV.items():
        monkeypatch.setenv(name, value)
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def hooks_system(hooks_env: None, system: System) -> System:
    """Web, a worker and beat sending due deliveries every second."""
    schedules_install()
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.filter(task="webhooks.send").update(
        interval=every_second, expire_seconds=1
    )
    system.start_web()
    system.start_worker()
    system.start_beat()
    return system


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.close()


def receiver_in(made: list[Receiver], **answer: object) -> Receiver:
    made.append(Receiver(**answer))
    return made[-1]


def hook(system: System, user: User, url: str, events: list[str] | None = None) -> dict:
    answer = system.call(
        "POST", "/api/webhooks/", user, json={"url": url, "events": events or ["instance.updated"]}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def complete_over_http(system: System, user: User) -> int:
    habit = HabitFactory(user=user)
    instance = make_instance(habit, timezone.localdate(), timezone.now())
    answer = system.call("POST", f"/api/instances/{instance.pk}/complete/", user)
    assert answer.status_code == 200, answer.text
    return instance.pk


def test_a_completion_over_http_reaches_the_receiver_signed(hooks_system, receivers):
    user = UserFactory()
    receiver = receiver_in(receivers)
    made = hook(hooks_system, user, receiver.url)

    instance_id = complete_over_http(hooks_system, user)

    wait_until(lambda: receiver.requests, 15, "the delivery received")
    [got] = receiver.requests
    payload = Verifier(made["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "instance.updated"
    assert payload["data"]["id"] == instance_id
    assert payload["data"]["status"] == "completed"
    wait_until(
        lambda: WebhookDelivery.objects.filter(delivered_at__isnull=False).exists(),
        10, "the delivery marked delivered",
    )  # fmt: skip
    listed = hooks_system.call("GET", f"/api/webhooks/{made['id']}/deliveries/", user).json()
    assert [(d["attempt"], d["status_code"], d["error"]) for d in listed] == [(1, 200, "")]


def test_a_failing_receiver_is_retried_with_the_same_id_and_growing_delays(hooks_system, receivers):
    user = UserFactory()
    receiver = receiver_in(receivers, status=500)
    hook(hooks_system, user, receiver.url)

    complete_over_http(hooks_system, user)

    wait_until(lambda: len(receiver.requests) >= 4, 40, "four tries")
    tries = receiver.requests[:4]
    assert len({r.headers["webhook-id"] for r in tries}) == 1
    gaps = [b.at - a.at for a, b in itertools.pairwise(tries)]
    assert gaps[2] > gaps[0] + 1, gaps  # 0.5, 1.5, 4.5 s (+ jitter, + beat's second)
    receiver.status = 200
    wait_until(
        lambda: WebhookDelivery.objects.filter(delivered_at__isnull=False).exists(),
        30, "delivered at last",
    )  # fmt: skip
    assert {r.headers["webhook-id"] for r in receiver.requests} == {tries[0].headers["webhook-id"]}


def test_10_failures_in_a_row_switch_the_hook_off_and_the_owner_is_told(hooks_system, receivers):
    user = UserFactory()
    receiver = receiver_in(receivers, status=500)
    made = hook(hooks_system, user, receiver.url)
    live = hooks_system.socket(user)

    for _ in range(10):
        complete_over_http(hooks_system, user)

    frames = live.frames_until("webhook.disabled", timeout=30)
    assert frames[-1]["data"]["id"] == made["id"]
    assert frames[-1]["data"]["reason"].startswith("10 failed deliveries in a row")
    read = hooks_system.call("GET", f"/api/webhooks/{made['id']}/", user).json()
    assert (read["enabled"], read["failures_in_a_row"]) == (False, 10)
    live.close()
    sent = len(receiver.requests)
    time.sleep(3)
    assert len(receiver.requests) == sent  # off: nothing more is sent


def test_a_worker_killed_mid_delivery_loses_nothing(hooks_system, receivers):
    user = UserFactory()
    receiver = receiver_in(receivers, delay=4)  # holds the first try while the worker dies
    hook(hooks_system, user, receiver.url)

    complete_over_http(hooks_system, user)
    wait_until(lambda: receiver.requests, 15, "the first try under way")
    hooks_system.kill("worker")
    receiver.delay = 0

    delivery = WebhookDelivery.objects.get()
    assert delivery.delivered_at is None
    assert delivery.next_attempt_at is not None  # still owed
    time.sleep(3.5)  # the dead worker's claim on the hook runs out
    hooks_system.start_worker()

    wait_until(
        lambda: WebhookDelivery.objects.filter(delivered_at__isnull=False).exists(),
        30, "delivered after the restart",
    )  # fmt: skip
    assert len(receiver.requests) >= 2  # at least once: the first try may have been received
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.message_id}


def test_a_slow_receiver_does_not_hold_the_deliveries_of_others(hooks_system, receivers):
    slow_user, other = UserFactory(), UserFactory()
    slow = receiver_in(receivers, delay=5)
    fast = receiver_in(receivers)
    also_fast = receiver_in(receivers)
    hook(hooks_system, slow_user, slow.url)
    hook(hooks_system, slow_user, also_fast.url)  # the same user's other hook
    hook(hooks_system, other, fast.url)

    complete_over_http(hooks_system, slow_user)
    wait_until(lambda: slow.requests, 15, "the slow receiver holding its try")
    started = time.monotonic()
    complete_over_http(hooks_system, other)

    wait_until(lambda: fast.requests, 3, "another user's delivery, while the slow one hangs")
    assert fast.requests[0].at - started < 3
    assert also_fast.requests  # in its own thread beside the slow one
    assert also_fast.requests[0].at < slow.requests[0].at + 2


def test_deliveries_of_one_hook_never_overlap(hooks_system, receivers):
    """One sender per hook at a time: a flood for one hook is sent one by one, in order."""
    user = UserFactory()
    receiver = receiver_in(receivers, delay=0.3)
    hook(hooks_system, user, receiver.url)

    for _ in range(6):
        complete_over_http(hooks_system, user)

    wait_until(lambda: len(receiver.requests) >= 6, 30, "six deliveries")
    arrivals = [r.at for r in receiver.requests]
    assert all(b - a >= 0.29 for a, b in itertools.pairwise(arrivals)), arrivals
    ids = [json.loads(r.body)["data"]["id"] for r in receiver.requests]
    assert ids == sorted(ids)
    assert Webhook.objects.get().failures_in_a_row == 0
