"""The Celery application; its settings are the `CELERY_*` names in Django settings."""

import os

import redis
from celery import Celery
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


_connparams = kombu_redis.Channel._connparams


def _connparams_of_an_open_channel(self: kombu_redis.Channel, asynchronous: bool = False) -> dict:
    """kombu 5.7 (with Celery 5.7) closes the broker connection when Redis goes away, then
    touches that closed channel again: to put unacknowledged (acks_late) messages back, and
    to acknowledge a task that finished meanwhile. Its connection details are gone by then,
    and the AttributeError that follows ends the whole worker ("Unrecoverable error").
    Answer as Redis being away instead, which kombu and Celery handle: they log it and go on,
    the worker reconnects, and an unacknowledged message runs again after the visibility
    timeout. tests/config/test_broker.py breaks loudly if kombu moves this."""
    if getattr(self.connection, "client", None) is None:
        raise redis.ConnectionError("this broker channel was closed with its connection")
    return _connparams(self, asynchronous=asynchronous)


kombu_redis.Channel._connparams = _connparams_of_an_open_channel
