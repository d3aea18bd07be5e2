"""Scenario 3: `GET /api/instances/today/` through the whole stack, with a real JWT.

Three users with 1, 10 and 100 instances today (and a month of history each). The list is
cached in Redis (instances/today_cache.py), so each size is measured twice: the first
request after a change (a miss: its SQL must not grow with the instances) and a cached one
(no SQL at all); each latency is the median of 50 requests.
"""

import json
import logging
import statistics
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.timezones import local_today
from bench import data, sql
from bench.report import Result, Row, millis
from instances.today_cache import today_forget

NAME = "today"
SIZES = (1, 10, 100)
REQUESTS = 50
HISTORY_DAYS = 30
TIMEZONE = "Europe/Berlin"
PASSWORD = "bench-password-0123"
PATH = "/api/instances/today/"

logger = logging.getLogger("bench")

HABITS_SQL = """
INSERT INTO habits_habit (user_id, action, place, time_of_day, is_pleasant, reward_text,
                          periodicity_days, repeat_limit, grace_minutes, fix_minutes,
                          start_date, is_public, is_active, created_at, updated_at)
SELECT %(user)s, 'habit ' || n, 'home', time '06:00' + make_interval(mins => n * 7),
       false, 'a treat', 1, 45, 30, 120, %(today)s::date - %(history)s, false, true,
       %(now)s, %(now)s
FROM generate_series(1, %(count)s) AS n
"""

INSTANCES_SQL = """
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status,
     completed_at, source, created_at, updated_at)
SELECT h.id, h.user_id, d.day, t.at, t.at + interval '30 minutes', t.at + interval '150 minutes',
       CASE WHEN d.day < %(today)s THEN 'completed' ELSE 'scheduled' END,
       CASE WHEN d.day < %(today)s THEN t.at END,
       CASE WHEN d.day < %(today)s THEN 'web' ELSE '' END, %(now)s, %(now)s
FROM habits_habit h
CROSS JOIN generate_series(%(today)s::date - %(history)s, %(today)s::date, '1 day') AS d(day)
CROSS JOIN LATERAL (SELECT (d.day::date + h.time_of_day) AT TIME ZONE %(tz)s AS at) t
WHERE h.user_id = %(user)s
"""


def user_with_instances(size: int, now: datetime) -> User:
    user = User.objects.create_user(f"today{size}@example.com", PASSWORD, timezone=TIMEZONE)
    params = {
        "user": user.pk,
        "count": size,
        "today": local_today(TIMEZONE, now),
        "history": HISTORY_DAYS,
        "now": now,
        "tz": TIMEZONE,
    }
    sql.execute(HABITS_SQL, params)
    sql.execute(INSTANCES_SQL, params)
    return user


def login(client: Client, email: str) -> str:
    body = json.dumps({"email": email, "password": PASSWORD})
    response = client.post("/api/auth/login/", data=body, content_type="application/json")
    if response.status_code != 200:
        raise RuntimeError(f"login failed: {response.status_code} {response.content!r}")
    return response.json()["access"]


def _get(client: Client, token: str, size: int) -> None:
    response = client.get(PATH, headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200 or len(response.json()) != size:
        raise RuntimeError(f"{PATH} answered {response.status_code}, not {size} instances")


def _queries(client: Client, token: str, size: int) -> list[str]:
    """SQL of one request (read at once: the next request clears the log)."""
    with CaptureQueriesContext(connection) as queries:
        _get(client, token, size)
    return [query["sql"] for query in queries.captured_queries]


@dataclass(frozen=True)
class Measured:
    missed: list[str]  # SQL of a request after a change
    cached: list[str]  # SQL of a request answered from the cache
    miss_latency: float  # median seconds
    hit_latency: float


def _measure(client: Client, token: str, user: User, size: int) -> Measured:
    """Both paths of REQUESTS requests each, after a warm-up."""

    def missed() -> float:
        today_forget([user.pk])  # what any change to the user's day does (not timed)
        return sql.timed(lambda: _get(client, token, size))[0]

    _get(client, token, size)
    today_forget([user.pk])
    miss_sql = _queries(client, token, size)
    hit_sql = _queries(client, token, size)
    misses = [missed() for _ in range(REQUESTS)]
    hits = [sql.timed(lambda: _get(client, token, size))[0] for _ in range(REQUESTS)]
    return Measured(miss_sql, hit_sql, statistics.median(misses), statistics.median(hits))


def _short(query: str) -> str:
    """The statement without its column list: `SELECT … FROM … WHERE …`."""
    head, sep, tail = query.partition(" FROM ")
    return f"{head.split()[0]} …{sep}{tail}"[:400] if sep else query[:400]


def _note(queries: list[str]) -> str:
    shown = "\n".join(f"{n}. {_short(query)}" for n, query in enumerate(queries, 1))
    return f"today, the SQL of one request ({SIZES[-1]} instances):\n\n```\n{shown}\n```"


def _rows(measured: dict[int, Measured]) -> list[Row]:
    first = len(measured[SIZES[0]].missed)
    rows = [
        Row(
            NAME,
            f"SQL queries after a change, {size} instance(s) today",
            str(len(m.missed)),
            "constant",
            len(m.missed) == first,
        )
        for size, m in measured.items()
    ]
    rows += [
        Row(
            NAME,
            f"SQL queries when cached, {size} instance(s)",
            str(len(m.cached)),
            "0",
            not m.cached,
        )
        for size, m in measured.items()
    ]
    rows += [
        Row(
            NAME,
            f"median latency of {REQUESTS} requests, {size} instance(s)",
            f"{millis(m.miss_latency)} after a change, {millis(m.hit_latency)} cached",
        )
        for size, m in measured.items()
    ]
    return rows


def run(scale: float) -> Result:
    """Sizes are fixed (1, 10, 100): they are small at any scale."""
    now = timezone.now()
    data.reset()
    client = Client()
    measured: dict[int, Measured] = {}
    for size in SIZES:
        user = user_with_instances(size, now)
        m = measured[size] = _measure(client, login(client, user.email), user, size)
        logger.info(
            "today: %s instances, %s queries, %.1f ms after a change, %.1f ms cached",
            *(size, len(m.missed), m.miss_latency * 1e3, m.hit_latency * 1e3),
        )
    return Result(_rows(measured), [_note(measured[SIZES[-1]].missed)])
