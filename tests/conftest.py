"""Shared fixtures: real PostgreSQL (pytest-django's test database) and a real Redis DB."""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from core import near_cache, presence
from core.redis import get_redis
from realtime.groups import user_group
from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def clean_redis() -> None:
    """Every test starts with an empty Redis database (the test settings use their own).

    Keys are deleted, not flushed: Redis reports a FLUSHDB to every client tracking keys on
    the server, so another test run's near caches would drop all they hold at every test."""
    client = get_redis()
    keys = list(client.scan_iter(count=1000))
    for start in range(0, len(keys), 500):
        client.unlink(*keys[start : start + 500])


def count_redis_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A one-item list counting the requests' reads of Redis (those of core.near_cache)."""
    reads = [0]
    read = near_cache.mget

    def counted(client: Any, keys: Any) -> list[bytes | None]:
        reads[0] += 1
        return read(client, keys)

    monkeypatch.setattr(near_cache, "mget", counted)
    return reads


ROOT = Path(__file__).resolve().parents[1]


class Api:
    """A JSON client over the whole Django stack, with an optional bearer token."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, token: str | None) -> dict[str, str]:
        token = token if token is not None else self.token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        token: str | None = None,
        raw: str | bytes | None = None,
        content_type: str = "application/json",
        **extra: Any,
    ) -> Any:
        data = (
            raw if raw is not None else (json.dumps(json_body) if json_body is not None else None)
        )
        call = getattr(self.client, method.lower())
        kwargs: dict[str, Any] = {"headers": self._headers(token), **extra}
        if data is not None:
            kwargs.update(data=data, content_type=content_type)
        return call(path, **kwargs)

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json_body, **kw)

    def patch(self, path: str, json_body: Any = None, **kw: Any) -> Any:
        return self.request("PATCH", path, json_body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)

    def login(self, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
        response = self.post("/api/auth/login/", {"email": email, "password": password})
        assert response.status_code == 200, response.content
        tokens = response.json()
        self.token = tokens["access"]
        return tokens


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def user(db: None) -> User:
    return UserFactory()


def answered_from_cache(client: Api, path: str) -> Any:
    """GET `path` twice: the second answer must be the first's very bytes, with the API's JSON
    headers, and reach the database not at all. Returns the first answer."""
    first = client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        again = client.get(path)
    assert ctx.captured_queries == []
    assert again.content == first.content
    assert again["Content-Type"] == "application/json; charset=utf-8"
    return first


@pytest.fixture
def owner(db: None) -> User:
    """The cache tests' owner: in Berlin, whose local day is not UTC's."""
    return UserFactory(timezone="Europe/Berlin")


@pytest.fixture
def owner_api(owner: User) -> Api:
    """An API client logged in as `owner`."""
    client = Api()
    client.login(owner.email)
    return client


@pytest.fixture
def authed(user: User) -> Api:
    """An API client logged in as `user`."""
    client = Api()
    client.login(user.email)
    return client


class EventProbe:
    """Listens on a user's channel-layer group in the real Redis layer, like a socket would.

    It owns its layer instance and one event loop, because channels-redis binds a receiving
    channel's buffers to the loop that first read it.
    """

    def __init__(self, user_id: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.group = user_group(user_id)
        self.channel = self.loop.run_until_complete(self.layer.new_channel())
        self.loop.run_until_complete(self.layer.group_add(self.group, self.channel))
        self.user_id = user_id
        # As a socket does: bulk work tells online users only. Never renewed: the lease lapses
        # after core.presence.lease_seconds(), but the count stays until another change.
        presence.socket_opened(user_id, self.channel)

    def drain(self, wait: float = 0.3) -> list[dict[str, Any]]:
        """Every event that arrived, waiting up to `wait` seconds of silence for more."""

        async def collect() -> list[dict[str, Any]]:
            events = []
            while True:
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), wait)
                except TimeoutError:
                    return events
                # One message may carry many frames (a sweep groups them per user).
                events.extend(message["events"] if "events" in message else [message["event"]])

        return self.loop.run_until_complete(collect())

    def types(self, wait: float = 0.3) -> list[str]:
        return [event["type"] for event in self.drain(wait)]

    def of_type(self, prefix: str, wait: float = 0.3) -> list[dict[str, Any]]:
        """The drained events whose type starts with `prefix` (e.g. "habit.")."""
        return [event for event in self.drain(wait) if event["type"].startswith(prefix)]

    def close(self) -> None:
        # In a thread of its own: an async test's loop may still be running here.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(self._close).result()

    def _close(self) -> None:
        presence.socket_closed(self.user_id, self.channel)
        self.loop.run_until_complete(self.layer.group_discard(self.group, self.channel))
        self.loop.run_until_complete(self.layer.flush())
        self.loop.close()


@pytest.fixture
def events_of() -> Iterator[Any]:
    """`events_of(user)` starts listening to that user's live events."""
    probes: list[EventProbe] = []

    def listen(user: User) -> EventProbe:
        probes.append(EventProbe(user.pk))
        return probes[-1]

    yield listen
    for probe in probes:
        probe.close()


@pytest.fixture
def broker_url() -> str:
    """The `worker`'s Celery broker: the test settings' (the test Redis). A module may ask
    for RabbitMQ too (tests/instances/test_celery.py)."""
    return settings.CELERY_BROKER_URL


@pytest.fixture
def worker(transactional_db: None, broker_url: str) -> Iterator[subprocess.Popen]:
    """A real `celery worker` process on the test database and the test Redis."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": broker_url,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-l",
            "info",
            "-n",
            f"test-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    output = process.stdout.read() if process.stdout else ""
    assert "Traceback" not in output, output


# Marked by where a test lives, so a new test cannot forget its marker. `make test` runs
# them all; `make test-fast` leaves these out for the edit loop.
MARKERS_BY_PATH = {
    "tests/system/": "system",
    "tests/e2e/": "e2e",
    "tests/config/test_fuzz.py": "fuzz",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "slow: starts the whole system and breaks its infrastructure; part of every run",
    )
    config.addinivalue_line("markers", "system: starts the run command's processes")
    config.addinivalue_line("markers", "e2e: drives the dashboard in headless Chromium")
    config.addinivalue_line("markers", "fuzz: schemathesis over every operation")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.path).relative_to(ROOT).as_posix()
        for prefix, marker in MARKERS_BY_PATH.items():
            if path.startswith(prefix):
                item.add_marker(marker)


@pytest.fixture(autouse=True)
def celery_app_stays_current() -> Iterator[None]:
    """`shared_task`s send through Celery's *current* app: a test that builds another app
    (a probe on a private broker) and leaves it current would send every later test's tasks
    to that broker. Such a test fails here, naming itself, instead of a later one timing out."""
    from celery import current_app

    from config.celery import app

    yield
    leaked = current_app._get_current_object()
    if leaked is not app:
        app.set_current()
        pytest.fail(
            f"this test left Celery's current app as {leaked.main!r}: pass set_as_current=False"
        )
