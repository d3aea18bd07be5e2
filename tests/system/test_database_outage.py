"""PostgreSQL briefly away under the running system: quick 503s in the error vocabulary,
never a hang or a 500, and recovery without restarting anything (RELIABILITY C5 at the
system level, and the 503 promise of the API)."""

import time

import pytest

from instances.models import HabitInstance
from tests.factories import UserFactory
from tests.system.conftest import System
from tests.system.harness import PgProxy, wait_until
from tests.system.test_redis_outage import daytime_user, habit, minutes_ago

pytestmark = pytest.mark.slow

UNAVAILABLE = {"detail": "The service is briefly unavailable; try again shortly."}
# Every kind of answer a client waits on: a public read, authenticated reads (one of them a
# list read lazily while the answer is written), a write.
PROBES = [
    ("GET", "/api/habits/public/", None),
    ("GET", "/api/auth/me/", None),
    ("GET", "/api/instances/today/", None),
    ("POST", "/api/habits/", habit("during")),
]


def assert_quick_503s(system: System, user, within: float) -> None:
    for method, path, body in PROBES:
        started = time.monotonic()
        response = system.call(method, path, user, json=body)
        elapsed = time.monotonic() - started
        assert response.status_code == 503, (method, path, response.status_code, response.text)
        assert response.json() == UNAVAILABLE
        assert response.headers["Retry-After"] == "5"
        assert elapsed < within, (method, path, elapsed)


def test_database_gone_then_back_answers_503_at_once_and_recovers_by_itself(
    system: System, pg_proxy: PgProxy
):
    system.start_web()
    system.start_worker()
    system.start_beat()
    user = daytime_user()
    # Connections open, and the answers the probes ask for not yet cached (a cached one needs
    # no database: it is still served, below).
    assert system.call("GET", "/api/pauses/", user).status_code == 200
    system.call("GET", "/api/habits/", user)

    pg_proxy.cut()

    assert_quick_503s(system, user, within=2.0)
    assert system.call("GET", "/api/habits/", user).status_code == 200
    ready = system.call("GET", "/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": False, "redis": True}
    time.sleep(6)  # a beat tick (every 5 s at most) meets the outage too

    pg_proxy.restore()

    wait_until(lambda: system.call("GET", "/readyz").status_code == 200, 15, "ready again")
    created = system.call("POST", "/api/habits/", user, json=habit("after", minutes_ago(user, 5)))
    assert created.status_code == 201
    assert system.call("GET", "/api/auth/me/", user).json()["email"] == user.email
    # The worker came back by itself too: the sweep the habit asked for decided its reminder.
    instance = created.json()["id"]
    wait_until(
        lambda: system.call("GET", f"/api/habits/{instance}/instances/", user).json()["count"] == 2,
        10,
        "the new habit's instances",
    )
    wait_until(
        lambda: HabitInstance.objects.filter(habit_id=instance, reminded_at__isnull=False).exists(),
        30,
        "the reminder decided by the worker",
    )
    for name in ("web", "worker", "beat"):
        assert system.alive(name), f"{name} died:\n{system.log(name)}"


def test_a_database_that_accepts_but_never_answers_is_a_503_within_the_connect_timeout(
    system: System, pg_proxy: PgProxy
):
    system.start_web()
    user = UserFactory()

    pg_proxy.stall()

    # DB_CONNECT_TIMEOUT is 2 s here: a request waits that long for a connection, no longer.
    assert_quick_503s(system, user, within=5.0)

    pg_proxy.restore()

    wait_until(lambda: system.call("GET", "/readyz").status_code == 200, 15, "ready again")
    assert system.call("GET", "/api/auth/me/", user).status_code == 200
