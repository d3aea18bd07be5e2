"""The README's promise, tested on what the README runs: `python -m config.run` (what
`make run` starts: migrate, web, worker and beat, with the development settings) on the
embedded default (SQLite) and on PostgreSQL, driven over HTTP and the socket as a person's
browser would, while the worker writes the same rows (S1).

Each habit is created a minute after its time, so its instance is born `pending` and
Telegram's decision is queued at once (it writes the instance's `reminded_at`), beside
beat's sweeps: every completion races the worker on the same database.
"""

import json
import os
import sqlite3
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from django.conf import settings
from websockets.sync.client import ClientConnection, connect

from tests.system.conftest import CRASHES, _other_sessions
from tests.system.harness import PrivateRedis, Stack, free_port, wait_until

pytestmark = pytest.mark.slow

USERS = 5
HABITS_PER_USER = 10  # 50 completions in all, each racing the worker
PASSWORD = "correct horse battery"


class MadeRun(Stack):
    """`python -m config.run` as `make run` starts it, on a port and a Redis of its own."""

    def __init__(self, workdir: Path, *, database_url: str, redis_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # As `make run` has them: no bot, and no REDIS_NAMESPACE (the test run's own), so the
        # namespace comes from the database, as by default.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TELEGRAM_") and k != "REDIS_NAMESPACE"
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.dev",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            CHANNEL_REDIS_URLS=redis_url,
            HOST="127.0.0.1",
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
        )
        super().__init__(
            workdir=workdir, argv={"run": [sys.executable, "-m", "config.run"]}, env=env
        )

    def ready(self) -> bool:
        log = self.log("run")
        if " ready." not in log or "beat: Starting" not in log:
            return False
        try:
            return requests.get(self.base + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False


@pytest.fixture
def start_made_run(transactional_db: None, tmp_path: Path) -> Iterator[Any]:
    """`start_made_run(engine, **env)`: the run command on "sqlite" (a file of the test's own)
    or "postgresql" (the test database), ready to serve."""
    runs: list[MadeRun] = []
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    db = settings.DATABASES["default"]

    def start(engine: str, **env: str) -> MadeRun:
        database_url = (
            f"sqlite:///{tmp_path / 'db.sqlite3'}"
            if engine == "sqlite"
            else f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
        run = MadeRun(tmp_path, database_url=database_url, redis_url=redis_server.url)
        run.env.update(env)
        runs.append(run)
        run.start("run", run.ready, timeout=120)
        return run

    yield start
    for run in runs:
        run.close()
    redis_server.stop()
    wait_until(lambda: _other_sessions(db["NAME"]) == 0, 20, "the servers' sessions gone")
    for run in runs:
        for crash in CRASHES:
            assert crash not in run.log("run"), run.log("run")


@pytest.fixture(params=["sqlite", "postgresql"])
def made_run(request: pytest.FixtureRequest, start_made_run: Any) -> MadeRun:
    return start_made_run(request.param)


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now: "a minute ago" stays on today's date."""
    offset = (12 - now.hour + 12) % 24 - 12  # -12..11 hours from UTC
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


@dataclass
class Person:
    """One user of the dashboard: their token, their socket, and every answer they got."""

    base: str
    email: str = field(default_factory=lambda: f"p-{uuid.uuid4().hex[:10]}@example.com")
    token: str = ""
    statuses: list[int] = field(default_factory=list)
    completed: dict[int, dict[str, Any]] = field(default_factory=dict)
    habit_ids: list[int] = field(default_factory=list)
    socket: ClientConnection | None = None

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = requests.request(method, self.base + path, headers=headers, timeout=30, **kw)
        self.statuses.append(response.status_code)
        return response

    def sign_up(self, zone: str) -> None:
        body = {"email": self.email, "password": PASSWORD, "timezone": zone}
        assert self.call("POST", "/api/auth/register/", json=body).status_code == 201
        login = self.call(
            "POST", "/api/auth/login/", json={"email": self.email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.token = login.json()["access"]
        self.socket = connect(
            self.base.replace("http", "ws") + "/ws/",
            subprotocols=["bearer", self.token],
            additional_headers={"Origin": self.base},
            open_timeout=10,
        )
        assert self.frame()["type"] == "hello"
        assert self.frame()["type"] == "today.snapshot"

    def frame(self, timeout: float = 15) -> dict[str, Any]:
        assert self.socket is not None
        return json.loads(self.socket.recv(timeout=timeout))

    def do_habit_a_minute_late(self, n: int, zone_now: datetime) -> None:
        """Create a habit whose time passed a minute ago, then tick it off at once."""
        at = (zone_now - timedelta(minutes=1)).strftime("%H:%M")
        body = {"action": f"stretch {n}", "time_of_day": at, "is_pleasant": True}
        created = self.call("POST", "/api/habits/", json=body)
        assert created.status_code == 201, created.text
        habit_id = created.json()["id"]
        self.habit_ids.append(habit_id)
        today = self.call("GET", "/api/instances/today/")
        assert today.status_code == 200, today.text
        [instance] = [i for i in today.json() if i["habit_id"] == habit_id]
        done = self.call("POST", f"/api/instances/{instance['id']}/complete/")
        assert done.status_code == 200, (done.status_code, done.text)
        self.completed[instance["id"]] = done.json()

    def frames_until_every_completion_shows(self) -> list[dict[str, Any]]:
        """Frames until each completed instance arrived as `completed` and each habit's stats
        count it done (the events reach the socket after their commit, in any order)."""
        waiting_instances = set(self.completed)
        waiting_stats = set(self.habit_ids)
        frames = []
        while waiting_instances or waiting_stats:
            frame = self.frame()
            frames.append(frame)
            data = frame["data"]
            if frame["type"] == "instance.updated" and data["status"] == "completed":
                waiting_instances.discard(data["id"])
            if frame["type"] == "stats.updated" and data["stats"]["done"] == 1:
                waiting_stats.discard(data["habit_id"])
        return frames


def test_the_journey_holds_while_the_worker_writes_the_same_rows(made_run: MadeRun) -> None:
    now = datetime.now(UTC)
    zone = midday_zone(now)
    zone_now = now.astimezone(ZoneInfo(zone))
    people = [Person(made_run.base) for _ in range(USERS)]
    start = threading.Barrier(USERS)

    def journey(person: Person) -> None:
        person.sign_up(zone)
        start.wait(timeout=60)  # everyone writes at once, beside the worker
        for n in range(HABITS_PER_USER):
            person.do_habit_a_minute_late(n, zone_now)

    with ThreadPoolExecutor(max_workers=USERS) as pool:
        for finished in [pool.submit(journey, person) for person in people]:
            finished.result()

    for person in people:
        assert all(status < 500 for status in person.statuses), person.statuses
        assert {i["status"] for i in person.completed.values()} == {"completed"}
        frames = person.frames_until_every_completion_shows()
        assert {f["type"] for f in frames} >= {"habit.created", "instance.updated", "stats.updated"}
        today = person.call("GET", "/api/instances/today/").json()
        assert sorted(i["id"] for i in today) == sorted(person.completed)
        assert {i["status"] for i in today} == {"completed"}
        stats = person.call("GET", f"/api/habits/{person.habit_ids[0]}/stats/").json()
        assert (stats["done"], stats["streak"]["current"], stats["success_rate"]) == (1, 1, 1.0)
        assert person.socket is not None
        person.socket.close()
    # The worker did race: it decided the reminders of the same rows while the completions
    # came in, and no write waited past its lock's timeout.
    assert made_run.log("run").count("telegram.decide[") >= USERS
    assert "database is locked" not in made_run.log("run")


def test_a_write_that_cannot_get_the_sqlite_lock_is_a_503_and_loses_nothing(
    start_made_run: Any, tmp_path: Path
) -> None:
    run = start_made_run("sqlite", SQLITE_BUSY_TIMEOUT_SECONDS="1")
    person = Person(run.base)
    person.sign_up("UTC")
    habit = person.call(
        "POST", "/api/habits/", json={"action": "read", "time_of_day": "23:59", "is_pleasant": True}
    ).json()
    holder = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock, for too long
    try:
        refused = person.call("PATCH", f"/api/habits/{habit['id']}/", json={"action": "write"})
        read = person.call("GET", f"/api/habits/{habit['id']}/")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert refused.status_code == 503
    assert refused.headers["Retry-After"].isdigit()
    assert "unavailable" in refused.json()["detail"]
    assert (read.status_code, read.json()["action"]) == (200, "read")  # WAL: reads go on
    retried = person.call("PATCH", f"/api/habits/{habit['id']}/", json={"action": "write"})
    assert (retried.status_code, retried.json()["action"]) == (200, "write")
    assert person.socket is not None
    person.socket.close()
