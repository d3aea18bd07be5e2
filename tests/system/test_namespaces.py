"""Installations on one Redis database (issue 17): N1, two of them see nothing of each
other; N2, a database reset under a running Redis starts from nothing cached.

Each installation is the run command's web server and worker with the production settings
(tests/system/conftest.py's System), on a PostgreSQL database of its own and the SAME
private redis-server, with `REDIS_NAMESPACE` unset: each finds its namespace the way a
deployment does by default, from its database. The databases are this run's own
(`<test database>_ns_*`), created and dropped here.

Every check is gathered before the test fails, so a failure lists everything that crossed.
"""

import contextlib
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
import requests
from django.conf import settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from accounts.tokens import encode
from tests.system.conftest import System
from tests.system.harness import ROOT, PgProxy, PrivateRedis, wait_until

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
QUIET_SECONDS = 3.0  # how long "nothing arrives" is waited for
COMPLETED = '"status": "completed"'  # as json.dumps writes an instance completed


class Databases:
    """PostgreSQL databases of this test run's own, dropped at the end."""

    def __init__(self) -> None:
        db = settings.DATABASES["default"]
        self.server = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432}
        self.user = db["USER"]
        self.stem = f"{db['NAME']}_ns"
        self.made: set[str] = set()

    def _admin(self, sql: str) -> None:
        with psycopg.connect(
            dbname="postgres", user=self.user, autocommit=True, **self.server
        ) as c:
            c.execute(sql)

    def url(self, name: str) -> str:
        return f"postgres://{self.user}@{self.server['host']}:{self.server['port']}/{name}"

    def create(self, suffix: str, *, copy_of: str | None = None) -> str:
        name = f"{self.stem}_{suffix}"
        self.drop(name)
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{copy_of}"' if copy_of else ""))
        self.made.add(name)
        return name

    def drop(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_all(self) -> None:
        for name in self.made:
            self.drop(name)


@pytest.fixture
def databases() -> Iterator[Databases]:
    made = Databases()
    yield made
    made.drop_all()


@pytest.fixture
def shared_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def installation(workdir: Path, redis: PrivateRedis, database_url: str) -> System:
    """Web and worker on `database_url` and the shared Redis, namespaced by default."""
    workdir.mkdir(exist_ok=True)
    system = System(workdir, redis.url, database_url)
    system.env.pop("REDIS_NAMESPACE", None)  # the test run's own; a deployment has none
    return system


def manage(system: System, *command: str) -> None:
    """`manage.py <command>` on the installation's database, as its operator would run it."""
    subprocess.run(
        [sys.executable, "manage.py", *command, "--noinput"],
        cwd=ROOT,
        env=system.env,
        check=True,
        timeout=120,
        capture_output=True,
    )


def etc_zone(hours: int) -> str:
    """A fixed-offset zone `hours` east of UTC."""
    return f"Etc/GMT{-hours:+d}" if hours else "UTC"


def midday_hours(now: datetime) -> int:
    """The offset (-12..11) at which it is about noon now: an hour either way, and a minute
    back, keep the same local date."""
    return (12 - now.hour + 12) % 24 - 12


@dataclass
class Person:
    """One user of one installation, over HTTP and the socket."""

    system: System
    zone: str
    email: str = field(default_factory=lambda: f"ann-{uuid.uuid4().hex[:8]}@example.com")
    token: str = ""
    socket: ClientConnection | None = None
    user_id: int | None = None

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.request(method, self.system.base + path, headers=headers, timeout=30, **kw)

    def log_in(self, password: str = PASSWORD) -> requests.Response:
        body = {"email": self.email, "password": password}
        return requests.post(self.system.base + "/api/auth/login/", json=body, timeout=30)

    def sign_up(self) -> "Person":
        body = {"email": self.email, "password": PASSWORD, "timezone": self.zone}
        registered = self.call("POST", "/api/auth/register/", json=body)
        assert registered.status_code == 201, registered.text
        login = self.log_in()
        assert login.status_code == 200, login.text
        self.token = login.json()["access"]
        self.socket = connect(
            self.system.base.replace("http", "ws") + "/ws/",
            subprotocols=["bearer", self.token],
            additional_headers={"Origin": self.system.base},
            open_timeout=10,
        )
        hello = self.frame()
        assert hello["type"] == "hello", hello
        self.user_id = hello["data"]["user_id"]
        assert self.frame()["type"] == "today.snapshot"
        return self

    def frame(self, timeout: float = 15) -> dict[str, Any]:
        assert self.socket is not None
        return json.loads(self.socket.recv(timeout=timeout))

    def frames(self, quiet: float = QUIET_SECONDS) -> list[dict[str, Any]]:
        """Every frame that arrives until none has for `quiet` seconds."""
        found = []
        try:
            while True:
                found.append(self.frame(timeout=quiet))
        except TimeoutError:
            return found

    def frames_until(self, wanted: Any, timeout: float = 15) -> list[dict[str, Any]]:
        found = [self.frame(timeout)]
        while not wanted(found[-1]):
            found.append(self.frame(timeout))
        return found

    def habit_due_a_minute_ago(self, action: str) -> dict[str, Any]:
        """A habit whose instance today is born `pending` (it queues `telegram.decide`)."""
        at = datetime.now(UTC).astimezone(ZoneInfo(self.zone)) - timedelta(minutes=1)
        body = {"action": action, "time_of_day": at.strftime("%H:%M"), "is_pleasant": True}
        created = self.call("POST", "/api/habits/", json=body)
        assert created.status_code == 201, created.text
        return created.json()

    def today(self) -> list[dict[str, Any]]:
        answer = self.call("GET", "/api/instances/today/")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(ConnectionClosed):
                self.socket.close()


def access_token(*, user_id: int) -> str:
    """An access token as the installations sign them (the test run's key is theirs)."""
    token, _ = encode(
        user_id=user_id, type="access", version=0, ttl=timedelta(minutes=5), jti=uuid.uuid4()
    )
    return token


def mentions(frames: list[dict[str, Any]], text: str) -> bool:
    return any(text in json.dumps(frame) for frame in frames)


def namespaces_of(redis: PrivateRedis) -> dict[str, list[bytes]]:
    """Every key in the shared Redis by its namespace (`aht:<namespace>:...`); keys outside
    the scheme under "".
    """
    found: dict[str, list[bytes]] = {}
    for name in redis.client().scan_iter(count=1000):
        match = re.match(rb"aht:([A-Za-z0-9_.-]+):", name)
        found.setdefault(match.group(1).decode() if match else "", []).append(name)
    return found


def test_two_installations_on_one_redis_database_see_nothing_of_each_other(
    tmp_path: Path, shared_redis: PrivateRedis, databases: Databases
) -> None:
    """N1. B's database is a copy of A's taken after migrating (staging restored from a dump
    of production): the same rows, even the same installation id, yet a database of its own.
    Each has a user 1 and a habit 1."""
    a_db = databases.create("a")
    a = installation(tmp_path / "a", shared_redis, databases.url(a_db))
    manage(a, "migrate")
    b_db = databases.create("b", copy_of=a_db)
    b = installation(tmp_path / "b", shared_redis, databases.url(b_db))
    people: list[Person] = []
    crossed: list[str] = []
    try:
        a.start_web()
        a.start_worker()
        b.start_web()  # B's worker starts later: its tasks must wait for it, not go to A's
        noon = midday_hours(datetime.now(UTC))
        ann_a = Person(a, etc_zone(noon), email="ann@example.com").sign_up()
        ann_b = Person(b, etc_zone(noon + 1), email="ann@example.com").sign_up()
        people += [ann_a, ann_b]
        assert ann_a.user_id == ann_b.user_id == 1

        # Throttles: A's guesses at ann's password do not lock ann out of B.
        for _ in range(settings.LOGIN_THROTTLE_PER_EMAIL):
            assert ann_a.log_in("wrong password").status_code == 401
        assert ann_a.log_in().status_code == 429
        if (status := ann_b.log_in().status_code) != 200:
            crossed.append(f"B's login answered {status}: A's failed logins counted for B")

        # Token state: each /me/ answers its own user's time zone, read and then cached.
        for person in (ann_a, ann_b, ann_a, ann_b):
            zone = person.call("GET", "/api/auth/me/").json()["timezone"]
            if zone != person.zone:
                crossed.append(f"/me/ of {person.system.base} answered {zone}, not {person.zone}")

        # B's habit 1 queues Telegram's decision: A's worker must not take it.
        b_habit = ann_b.habit_due_a_minute_ago("B runs")
        time.sleep(QUIET_SECONDS)
        if " received" in a.log("worker"):
            crossed.append("A's worker took B's task:\n" + a.log("worker")[-2000:])

        # A's habit 1, completed: events, today and stats of A's user 1 and habit 1.
        a_habit = ann_a.habit_due_a_minute_ago("A reads")
        [a_instance] = [i for i in ann_a.today() if i["habit_id"] == a_habit["id"]]
        done = ann_a.call("POST", f"/api/instances/{a_instance['id']}/complete/")
        assert done.status_code == 200, done.text
        ann_a.frames_until(lambda f: f["type"] == "stats.updated" and f["data"]["stats"]["done"])
        a_stats = ann_a.call("GET", f"/api/habits/{a_habit['id']}/stats/").json()
        assert (a_habit["id"], a_stats["done"]) == (1, 1)
        assert [i["status"] for i in ann_a.today()] == ["completed"]  # cached just now

        b_today = ann_b.today()
        if [i["habit_id"] for i in b_today] != [b_habit["id"]] or mentions(b_today, COMPLETED):
            crossed.append(f"B's today is not B's own: {b_today}")
        b_stats = ann_b.call("GET", f"/api/habits/{b_habit['id']}/stats/").json()
        if b_stats["done"] != 0:
            crossed.append(f"B's habit 1 has A's stats: {b_stats}")
        b_frames = ann_b.frames()
        if mentions(b_frames, "A reads") or mentions(b_frames, COMPLETED):
            crossed.append(f"B's socket heard A's events: {b_frames}")
        if mentions(ann_a.frames(), "B runs"):
            crossed.append("A's socket heard B's events")

        # B's task waited for B's own worker.
        b.start_worker()
        try:
            wait_until(lambda: "telegram.decide[" in b.log("worker"), 30, "B's task run by B")
        except AssertionError as error:
            crossed.append(f"B's task did not wait for B's worker: {error}")

        by_namespace = namespaces_of(shared_redis)
        if "" in by_namespace:
            crossed.append(f"keys outside any namespace: {sorted(by_namespace[''])[:20]}")
        if len(set(by_namespace) - {""}) != 2:
            crossed.append(f"not two namespaces: {sorted(by_namespace)}")
    finally:
        for person in people:
            person.close()
        a.close()
        b.close()
    assert not crossed, "\n".join(crossed)


@pytest.mark.parametrize("reset", ["drop and create", "flush"])
def test_a_database_reset_under_a_running_redis_hands_the_new_user_1_nothing_of_the_old(
    tmp_path: Path, shared_redis: PrivateRedis, databases: Databases, reset: str
) -> None:
    """N2. The old user 1 fills every cache it can; the database is reset (dropped and made
    anew, or flushed) while Redis keeps running, the processes restart on it, and a new
    user 1 signs up with the same e-mail."""
    name = databases.create("reset")
    system = installation(tmp_path / "reset", shared_redis, databases.url(name))
    manage(system, "migrate")
    noon = midday_hours(datetime.now(UTC))
    people: list[Person] = []
    crossed: list[str] = []
    try:
        system.start_web()
        system.start_worker()
        old = Person(system, etc_zone(noon), email="ann@example.com").sign_up()
        people.append(old)
        habit = old.habit_due_a_minute_ago("old habit")
        [instance] = old.today()
        assert old.call("POST", f"/api/instances/{instance['id']}/complete/").status_code == 200
        assert old.call("GET", f"/api/habits/{habit['id']}/stats/").json()["done"] == 1
        assert old.call("GET", "/api/auth/me/").json()["timezone"] == old.zone
        assert len(old.today()) == 1  # cached now, with the token state
        for _ in range(settings.LOGIN_THROTTLE_PER_EMAIL):
            old.log_in("wrong password")
        old.close()
        system.stop("web")
        system.stop("worker")

        if reset == "flush":
            manage(system, "flush")
        else:
            databases.drop(name)
            databases.create("reset")
            manage(system, "migrate")
        system.start_web()
        system.start_worker()

        new = Person(system, etc_zone(noon + 1), email="ann@example.com")
        people.append(new)
        registered = new.call(
            "POST",
            "/api/auth/register/",
            json={"email": new.email, "password": PASSWORD, "timezone": new.zone},
        )
        assert registered.status_code == 201, registered.text
        login = new.log_in()
        if login.status_code == 200:
            new.token = login.json()["access"]
        else:
            crossed.append(f"the new ann's login answered {login.status_code}: old failures")
            new.token = access_token(user_id=1)  # to go on with the other checks
        me = new.call("GET", "/api/auth/me/").json()
        if (me["id"], me["timezone"]) != (1, new.zone):
            crossed.append(f"the new user 1's /me/ answered {me}, not {new.zone}")
        if (today := new.today()) != []:
            crossed.append(f"the new user 1's today holds the old one's list: {today}")
        new_habit = new.habit_due_a_minute_ago("new habit")
        stats = new.call("GET", f"/api/habits/{new_habit['id']}/stats/").json()
        if stats["done"] != 0:
            crossed.append(f"the new habit 1 has the old one's stats: {stats}")
        if len(set(namespaces_of(shared_redis)) - {""}) != 2:
            crossed.append("the reset database did not get a namespace of its own")
    finally:
        for person in people:
            person.close()
        system.close()
    assert not crossed, "\n".join(crossed)


def test_a_worker_started_while_the_database_is_away_waits_for_it_then_serves(
    system: System, pg_proxy: PgProxy
) -> None:
    """The broker's prefix needs the namespace, and the default one needs the database: a
    worker started before the database answers (compose starts them side by side) waits,
    logging, instead of guessing a prefix where no task of its installation would arrive."""
    system.env.pop("REDIS_NAMESPACE", None)
    pg_proxy.cut()
    system.start("worker", lambda: "waits for the database" in system.log("worker"))
    pg_proxy.restore()
    wait_until(lambda: " ready." in system.log("worker"), 60, "the worker ready after it")

    system.start_web()
    person = Person(system, etc_zone(midday_hours(datetime.now(UTC)))).sign_up()
    try:
        person.habit_due_a_minute_ago("read")  # queues `telegram.decide` from the web process
        wait_until(lambda: "telegram.decide[" in system.log("worker"), 30, "the task run")
    finally:
        person.close()
