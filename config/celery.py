"""The Celery application; its settings are the `CELERY_*` names in Django settings.

Its broker is Redis (the default, `REDIS_URL`) or RabbitMQ (`CELERY_BROKER_URL=amqp://...`).
On either, every broker name is in this installation's namespace (core/redis.py), so
installations, and test runs, sharing one broker never take each other's tasks: on Redis
through kombu's key prefix, on RabbitMQ through the names of the queue and the exchanges."""

import os
from typing import Any
from urllib.parse import urlsplit

import redis
from celery import Celery
from celery.signals import beat_init, celeryd_init
from kombu import Connection
from kombu.transport import redis as kombu_redis
from kombu.utils.objects import cached_property

from core.redis import key, key_prefix, namespace_waiting

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")


AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")


def is_rabbitmq(url: str) -> bool:
    return urlsplit(url).scheme in AMQP_SCHEMES


def rabbitmq_names() -> dict[str, str]:
    """This installation's names on RabbitMQ, as Celery settings: the task queue, its direct
    exchange and routing key, the remote-control exchange (Celery adds `.pidbox`) and the
    events exchange. RabbitMQ has no key prefix; the namespace goes into each name."""
    tasks = key("celery")
    return {
        "task_default_queue": tasks,
        "task_default_exchange": tasks,
        "task_default_routing_key": tasks,
        "control_exchange": tasks,
        "event_exchange": key("celery", "events"),
    }


class NamespacedCelery(Celery):
    """Every broker name in this installation's namespace.

    On Redis, kombu's `global_keyprefix` on every connection: its queues, unacknowledged
    messages, bindings, and the pub/sub of remote control and events; every installation's
    default queue is still called `celery`. On RabbitMQ, the names themselves
    (`rabbitmq_names`), set before the first queue, exchange or mailbox object is made from
    them. Either is settled on first use, not when settings load: the namespace may need the
    database."""

    def connection_for_read(self, url: str | None = None, **kwargs: Any) -> Connection:
        return super().connection_for_read(url, **self._namespaced(url, kwargs))

    def connection_for_write(self, url: str | None = None, **kwargs: Any) -> Connection:
        return super().connection_for_write(url, **self._namespaced(url, kwargs))

    def _namespaced(self, url: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        if is_rabbitmq(url or self.conf.broker_url):
            self.names_settle()
            return kwargs
        options = {**(kwargs.get("transport_options") or {})}
        options["global_keyprefix"] = key_prefix("celery")
        return {**kwargs, "transport_options": options}

    def names_settle(self) -> None:
        """On RabbitMQ, this installation's queue and exchange names in the settings Celery
        reads them from; once, before anything is built from them."""
        if is_rabbitmq(self.conf.broker_url) and not getattr(self, "_names_settled", False):
            self.conf.update(rabbitmq_names())
            self._names_settled = True

    @cached_property
    def amqp(self) -> Any:
        """Queues, exchanges, router and task sender are all made here, from the names."""
        self.names_settle()
        return super().amqp

    @cached_property
    def control(self) -> Any:
        """The remote-control mailbox (`celery inspect`, revoke) takes its exchange name here."""
        self.names_settle()
        return super().control


@celeryd_init.connect
def _worker_learns_the_namespace(**kwargs: Any) -> None:
    """Before the worker's first broker connection (Django is set up by then): a database
    that does not answer yet is waited for, never guessed around."""
    namespace_waiting("the worker")
    app.names_settle()


@beat_init.connect
def _beat_learns_the_namespace(**kwargs: Any) -> None:
    namespace_waiting("beat")
    app.names_settle()


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
