"""The kombu patch in config/celery.py, which keeps a worker alive when Redis goes away under
an unacknowledged task (the whole story: tests/system/test_worker_faults.py). A canary: it
breaks loudly when kombu moves the private method the patch replaces."""

import kombu
import pytest
import redis
from django.conf import settings
from kombu import Connection
from kombu.transport import redis as kombu_redis

from config import celery
from core.redis import key, key_prefix


def test_kombu_is_the_version_the_patch_was_written_for():
    assert kombu.__version__.startswith("5.7."), "re-check config/celery.py's patch"
    assert kombu_redis.Channel._connparams is celery._connparams_of_an_open_channel


def test_a_channel_closed_with_its_connection_says_redis_is_away_instead_of_crashing():
    connection = Connection(settings.REDIS_URL)
    channel = connection.default_channel
    connection.close()

    with pytest.raises(redis.ConnectionError):
        channel.qos.ack("a-task-that-finished-after-the-connection-died")


def test_an_open_channel_still_reaches_redis():
    with Connection(settings.REDIS_URL) as connection:
        assert connection.default_channel.client.ping()


def test_on_rabbitmq_every_queue_and_exchange_is_named_in_the_namespace():
    """RabbitMQ has no key prefix: two installations (two test runs) on one RabbitMQ keep
    apart by these names alone (the worker on them: tests/system/test_worker_faults.py)."""
    app = celery.NamespacedCelery(
        "names", broker="amqp://guest:guest@127.0.0.1:5672//", set_as_current=False
    )
    try:
        tasks = key("celery")
        (queue,) = app.amqp.queues.values()
        assert (queue.name, queue.exchange.name, queue.routing_key) == (tasks, tasks, tasks)
        assert app.control.mailbox.exchange.name == f"{tasks}.pidbox"
        assert app.conf.event_exchange == key("celery", "events")
    finally:
        app.close()


def test_on_redis_the_names_stay_celerys_own_under_the_key_prefix():
    app = celery.NamespacedCelery("names", broker=settings.REDIS_URL, set_as_current=False)
    try:
        assert list(app.amqp.queues) == ["celery"]
        with app.connection_for_write() as connection:
            assert connection.transport_options["global_keyprefix"] == key_prefix("celery")
    finally:
        app.close()
