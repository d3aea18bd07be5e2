"""Asking a worker to send (`webhooks.tasks.send_ask`): a flood of changes of one user queues
one pass per hook, not one per change, and loses nothing. The real broker's queue is counted;
the pass is the task's own function, run here as a worker would run it."""

from collections.abc import Iterator

import pytest

from config.celery import app
from tests.webhooks.conftest import complete, hook_for, open_instance
from webhooks.models import WebhookDelivery
from webhooks.tasks import send_deliveries

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the ask runs after the commit, as in production
    pytest.mark.usefixtures("loopback"),
]


def _queued() -> int:
    """Messages waiting in this installation's task queue on the broker."""
    with app.connection_for_write() as connection, connection.channel() as channel:
        return channel.queue_declare(queue=app.conf.task_default_queue)[1]


@pytest.fixture
def empty_queue() -> Iterator[None]:
    app.control.purge()
    yield
    app.control.purge()


@pytest.mark.usefixtures("empty_queue")
def test_a_flood_of_completions_queues_one_pass_and_that_pass_sends_them_all(user, receiver):
    hook = hook_for(user, receiver.url)
    for _ in range(5):
        complete(open_instance(user))
    assert _queued() == 1
    assert WebhookDelivery.objects.filter(webhook=hook, delivered_at=None).count() == 5

    assert send_deliveries(hook_ids=[hook.pk]) == 5  # the queued pass, as the worker runs it
    assert len(receiver.requests) == 5
    assert not WebhookDelivery.objects.filter(webhook=hook, delivered_at=None).exists()


@pytest.mark.usefixtures("empty_queue")
def test_a_change_after_the_pass_began_queues_the_next(user, receiver):
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))
    send_deliveries(hook_ids=[hook.pk])  # began (and ended): the hook's mark is gone
    app.control.purge()

    complete(open_instance(user))
    assert _queued() == 1
    assert send_deliveries(hook_ids=[hook.pk]) == 1
    assert len(receiver.requests) == 2


@pytest.mark.usefixtures("empty_queue")
def test_each_hook_of_the_change_gets_its_pass(user, receiver):
    first, second = hook_for(user, receiver.url), hook_for(user, receiver.url)
    complete(open_instance(user))
    complete(open_instance(user))
    assert _queued() == 1  # one pass for both hooks of the change
    assert send_deliveries(hook_ids=[first.pk, second.pk]) == 4
