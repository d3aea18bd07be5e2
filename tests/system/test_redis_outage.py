"""Redis restarted or away under the running system (RELIABILITY W, C5, D7 at system level).

Redis here keeps nothing across a restart (no AOF), so the channel layer's group memberships
and the presence counts are gone: an open socket must not stay open and deaf.
"""

import time
import zoneinfo
from datetime import datetime, timedelta

import pytest
from websockets.exceptions import ConnectionClosed

from accounts.models import User
from instances.models import HabitInstance
from tests.factories import UserFactory
from tests.system.conftest import Live, System
from tests.system.harness import PrivateRedis, wait_until

pytestmark = pytest.mark.slow

CLOSE_TRY_AGAIN = 1013


def habit(action: str, at: str = "23:59") -> dict:
    return {"action": action, "time_of_day": at, "reward_text": "tea"}


def daytime_user() -> User:
    """A user whose local clock reads between 01:00 and 22:59, so "five minutes ago" is today."""
    now = datetime.now(zoneinfo.ZoneInfo("UTC"))
    zone = "UTC" if 1 <= now.hour <= 22 else "Asia/Tokyo"
    return UserFactory(timezone=zone)


def minutes_ago(user: User, minutes: int) -> str:
    local = datetime.now(zoneinfo.ZoneInfo(user.timezone)) - timedelta(minutes=minutes)
    return local.strftime("%H:%M")


def reconnect(system: System, user: User, timeout: float = 20) -> Live:
    """What the dashboard does after a close: try again, with a pause, until it is let in."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return system.socket(user)
        except (ConnectionClosed, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_redis_restarted_under_open_sockets_closes_them_to_retry_and_nothing_is_lost(
    system: System, private_redis: PrivateRedis
):
    system.start_web()
    system.start_worker()
    user = daytime_user()
    sockets = [system.socket(user), system.socket(user)]
    assert system.call("POST", "/api/habits/", user, json=habit("before")).status_code == 201
    for live in sockets:
        assert live.frames_until("habit.created")[-1]["data"]["action"] == "before"

    private_redis.restart()

    # Redis forgot their group memberships: each socket is told to come back, not left deaf.
    for live in sockets:
        assert live.close_code() == CLOSE_TRY_AGAIN
    assert system.call("POST", "/api/habits/", user, json=habit("meanwhile")).status_code == 201
    again = reconnect(system, user)
    assert again.hello["data"] == {"user_id": user.pk}
    under_way = system.call("POST", "/api/habits/", user, json=habit("after", minutes_ago(user, 5)))
    assert under_way.status_code == 201
    assert again.frames_until("habit.created")[-1]["data"]["action"] == "after"

    listed = system.call("GET", "/api/habits/", user).json()
    assert {h["action"] for h in listed["items"]} == {"before", "meanwhile", "after"}
    # The worker found the broker again by itself: the decision the new habit asked for ran.
    today = HabitInstance.objects.filter(habit_id=under_way.json()["id"])
    wait_until(lambda: today.filter(reminded_at__isnull=False).exists(), 30, "the reminder decided")
    assert system.alive("web")
    assert system.alive("worker")


def test_redis_that_forgets_without_dropping_connections_still_closes_the_sockets(
    system: System, private_redis: PrivateRedis
):
    """A failover or a flush keeps the layer's connections up: only the watch can tell."""
    system.start_web()
    user = daytime_user()
    live = system.socket(user)

    private_redis.client().flushall()  # our own Redis, nobody else's

    assert live.close_code() == CLOSE_TRY_AGAIN
    again = reconnect(system, user)
    assert system.call("POST", "/api/habits/", user, json=habit("heard")).status_code == 201
    assert again.frames_until("habit.created")[-1]["data"]["action"] == "heard"


def test_while_redis_is_away_rest_answers_and_sockets_are_told_to_come_back(
    system: System, private_redis: PrivateRedis
):
    system.start_web()
    user = daytime_user()
    created = system.call("POST", "/api/habits/", user, json=habit("read"))
    live = system.socket(user)

    private_redis.stop()

    assert live.close_code() == CLOSE_TRY_AGAIN
    with pytest.raises(ConnectionClosed) as refused:
        system.socket(user)
    assert refused.value.rcvd.code == CLOSE_TRY_AGAIN
    # Nothing the REST side owes needs Redis: reads, writes and stats (from the database).
    assert system.call("GET", "/api/habits/", user).status_code == 200
    assert system.call("POST", "/api/habits/", user, json=habit("write")).status_code == 201
    stats = system.call("GET", f"/api/habits/{created.json()['id']}/stats/", user)
    assert stats.status_code == 200
    assert stats.json()["habit_id"] == created.json()["id"]
    ready = system.call("GET", "/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": True, "redis": False}

    private_redis.start()

    again = reconnect(system, user)
    assert system.call("POST", "/api/habits/", user, json=habit("later")).status_code == 201
    assert again.frames_until("habit.created")[-1]["data"]["action"] == "later"
    assert system.call("GET", "/readyz").status_code == 200
