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
