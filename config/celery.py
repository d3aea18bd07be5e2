"""The Celery application; its settings are the `CELERY_*` names in Django settings."""

import os
from typing import Any

import redis
from celery import Celery
from celery.signals import beat_init, celeryd_init
from kombu import Connection
from kombu.transport import redis as kombu_redis

from core.redis import key_prefix, namespace_waiting

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")


class NamespacedCelery(Celery):
    """Every broker connection under this installation's Redis namespace (kombu's
    `global_keyprefix`): its queues, unacknowledged messages, bindings, and the pub/sub of
    remote control and events. So a worker takes only its own installation's tasks, though
    every installation's default queue is called `celery`. The prefix is read when a
    connection is made, not when settings load: it may need the database."""

    def connection_for_read(self, url: str | None = None, **kwargs: Any) -> Connection:
        return super().connection_for_read(url, **_namespaced(kwargs))

    def connection_for_write(self, url: str | None = None, **kwargs: Any) -> Connection:
        return super().connection_for_write(url, **_namespaced(kwargs))


def _namespaced(kwargs: dict[str, Any]) -> dict[str, Any]:
    options = {**(kwargs.get("transport_options") or {}), "global_keyprefix": key_prefix("celery")}
    return {**kwargs, "transport_options": options}


@celeryd_init.connect
def _worker_learns_the_namespace(**kwargs: Any) -> None:
    """Before the worker's first broker connection (Django is set up by then): a database
    that does not answer yet is waited for, never guessed around."""
    namespace_waiting("the worker")


@beat_init.connect
def _beat_learns_the_namespace(**kwargs: Any) -> None:
    namespace_waiting("beat")


app = NamespacedCelery("config")
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
