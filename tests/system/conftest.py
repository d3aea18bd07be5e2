"""The whole system under real faults: the run command's processes on the test database
(through a proxy the test can cut) and a Redis of the test's own (which it can restart). Its
Celery broker is that Redis unless a module asks for the `broker` fixture's RabbitMQ too
(tests/system/test_worker_faults.py)."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.db import connection
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from accounts.models import User
from accounts.services import token_pair_issue
from config.celery import rabbitmq_names
from config.run import processes
from core.redis import key
from instances.beat_schedules import schedules_install
from tests.system.harness import (
    RABBITMQ_URL,
    PgProxy,
    PrivateRedis,
    RabbitBroker,
    RedisBroker,
    Stack,
    TcpProxy,
    free_port,
    wait_until,
)

# Short enough for a test to see a retry, a give-up or a lost task handed out again.
FAST_FAULTS = {
    "WS_LAYER_CHECK_SECONDS": "1",
    "TASK_RETRY_BACKOFF_SECONDS": "1",
    "TASK_RETRY_BACKOFF_MAX_SECONDS": "1",
    "TASK_MAX_RETRIES": "3",
    "CELERY_VISIBILITY_TIMEOUT": "3",
    "DB_CONNECT_TIMEOUT": "2",
}


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


Broker = RedisBroker | RabbitBroker


def broker_of(kind: str, private_redis: PrivateRedis) -> Iterator[Broker]:
    """The system's broker: the private Redis, or the machine's RabbitMQ behind a proxy."""
    if kind == "redis":
        yield RedisBroker(private_redis, key("celery", "celery"), key("celery", "unacked"))
        return
    host, port = urlsplit(RABBITMQ_URL).hostname, urlsplit(RABBITMQ_URL).port
    proxy = TcpProxy(host or "127.0.0.1", port or 5672)
    proxy.start()
    broker = RabbitBroker(proxy, rabbitmq_names())
    yield broker
    proxy.close()
    broker.close()


@pytest.fixture
def broker(private_redis: PrivateRedis) -> Iterator[Broker]:
    """Redis, for every system test but those that ask for both brokers (parametrized)."""
    yield from broker_of("redis", private_redis)


@pytest.fixture
def pg_proxy() -> Iterator[PgProxy]:
    db = settings.DATABASES["default"]
    proxy = PgProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    proxy.start()
    yield proxy
    proxy.close()


class System(Stack):
    """The stack, with a way in for the test: REST over HTTP and the live socket."""

    def __init__(
        self, workdir: Path, redis_url: str, database_url: str, broker_url: str = ""
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "SECRET_KEY": settings.SECRET_KEY,
            "JWT_SIGNING_KEY": settings.JWT_SIGNING_KEY,
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # The app's own origin (the socket admits pages from it only) is on this port.
            "PORT": str(self.port),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Always set: one inherited from the shell must not send the tasks elsewhere.
            "CELERY_BROKER_URL": broker_url or redis_url,
            # The channel layer on it too, whatever the test run's environment says.
            "CHANNEL_REDIS_URLS": redis_url,
            "WEB_WORKERS": "2",
            "CELERY_CONCURRENCY": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **FAST_FAULTS,
        }
        super().__init__(workdir=workdir, argv=processes("127.0.0.1", str(self.port)), env=env)

    def start_web(self) -> None:
        self.start("web", lambda: self._answers("/healthz"))

    def start_worker(self) -> None:
        before = self.log("worker").count(" ready.")
        self.start("worker", lambda: self.log("worker").count(" ready.") > before)

    def start_beat(self) -> None:
        schedules_install()
        before = self.log("beat").count("beat: Starting")
        self.start("beat", lambda: self.log("beat").count("beat: Starting") > before)

    def _answers(self, path: str) -> bool:
        try:
            return requests.get(self.base + path, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def call(
        self, method: str, path: str, user: User | None = None, token: str = "", **kw: Any
    ) -> Any:
        """One HTTP request, signed as `user` (a fresh token) or with `token`."""
        token = access_for(user) if user else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kw)

    def socket(self, user: User) -> "Live":
        return Live(
            connect(
                f"ws://127.0.0.1:{self.port}/ws/",
                subprotocols=["bearer", access_for(user)],
                additional_headers={"Origin": self.base},
                open_timeout=10,
            )
        )


def access_for(user: User) -> str:
    user.refresh_from_db(fields=["token_version"])
    return token_pair_issue(user=user).access


class Live:
    """One live socket, as a client sees it."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.hello = self.frame()
        self.snapshot = self.frame()

    def frame(self, timeout: float = 10) -> dict:
        return json.loads(self.connection.recv(timeout=timeout))

    def frames_until(self, type: str, timeout: float = 10) -> list[dict]:
        frames = [self.frame(timeout)]
        while frames[-1]["type"] != type:
            frames.append(self.frame(timeout))
        return frames

    def close_code(self, timeout: float = 15) -> int | None:
        """Wait for the server to close the socket; its close code."""
        try:
            while True:
                self.connection.recv(timeout=timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def system(
    transactional_db: None,
    tmp_path: Path,
    private_redis: PrivateRedis,
    pg_proxy: PgProxy,
    broker: Broker,
) -> Iterator[System]:
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@127.0.0.1:{pg_proxy.port}/{db['NAME']}"
    stack = System(tmp_path, private_redis.url, database_url, broker.url)
    yield stack
    stack.close()
    # The servers' database sessions end a moment after their processes: wait, so the test
    # database can be flushed and, at the end of the run, dropped.
    wait_until(lambda: _other_sessions(db["NAME"]) == 0, 20, "the servers' sessions gone")
    for name in ("web", "worker", "beat"):
        for crash in CRASHES:
            assert crash not in stack.log(name), f"{name} crashed:\n{stack.log(name)}"


def _other_sessions(database: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        return cursor.fetchone()[0]


# What the servers log when an exception escaped the application or a request became a 500.
CRASHES = ("Exception in ASGI application", "Exception inside application", "Internal Server Error")
