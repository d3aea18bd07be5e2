"""Scenario: `GET /api/habits/{id}/stats/` for a habit with a year of history (365 instances).

Through the whole stack with a real JWT, like `today`: the median of 50 requests answered
from the Redis cache, and of 50 requests each after the cache entry was dropped (computed
from PostgreSQL, then stored).
"""

import json
import statistics
from datetime import datetime

from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.timezones import local_today
from bench import data, sql
from bench.report import Result, Row, millis
from bench.today import PASSWORD, TIMEZONE, login
from core.redis import get_redis
from instances.stats_cache import stats_key

NAME = "stats"
DAYS = 365
REQUESTS = 50
UNCACHED_BUDGET = 0.020

HABIT_SQL = """
INSERT INTO habits_habit (user_id, action, place, time_of_day, is_pleasant, reward_text,
                          periodicity_days, repeat_limit, grace_minutes, fix_minutes,
                          start_date, is_public, is_active, created_at, updated_at)
VALUES (%(user)s, 'read', 'home', '07:30', false, 'tea', 1, 45, 30, 120,
        %(today)s::date - %(days)s, false, true, %(now)s, %(now)s)
RETURNING id
"""

# A year of resolved days: mostly on time, some late, some missed, runs of every length.
INSTANCES_SQL = """
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status,
     completed_at, source, created_at, updated_at)
SELECT %(habit)s, %(user)s, d.day, t.at, t.at + interval '30 minutes',
       t.at + interval '150 minutes', s.status,
       CASE WHEN s.status LIKE 'completed%%' THEN t.at + interval '10 minutes' END,
       CASE WHEN s.status LIKE 'completed%%' THEN 'web' ELSE '' END, %(now)s, %(now)s
FROM generate_series(%(today)s::date - %(days)s, %(today)s::date - 1, '1 day') AS d(day)
CROSS JOIN LATERAL (SELECT (d.day::date + time '07:30') AT TIME ZONE %(tz)s AS at) t
CROSS JOIN LATERAL (SELECT CASE WHEN extract(doy FROM d.day)::int %% 11 = 0 THEN 'missed'
                                WHEN extract(doy FROM d.day)::int %% 7 = 0 THEN 'completed_late'
                                ELSE 'completed' END AS status) s
"""


def _habit(now: datetime) -> tuple[User, int]:
    user = User.objects.create_user("stats@example.com", PASSWORD, timezone=TIMEZONE)
    params = {"user": user.pk, "today": local_today(TIMEZONE, now), "days": DAYS, "now": now}
    habit_id = sql.fetch(HABIT_SQL, params)[0][0]
    sql.execute(INSTANCES_SQL, {**params, "habit": habit_id, "tz": TIMEZONE})
    return user, habit_id


def _get(client: Client, token: str, habit_id: int) -> float:
    path = f"/api/habits/{habit_id}/stats/"
    elapsed, response = sql.timed(
        lambda: client.get(path, headers={"Authorization": f"Bearer {token}"})
    )
    if response.status_code != 200 or json.loads(response.content)["habit_id"] != habit_id:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return elapsed


def _uncached(client: Client, token: str, habit_id: int) -> float:
    get_redis().delete(stats_key(habit_id))
    return _get(client, token, habit_id)


def run(scale: float) -> Result:
    """The size is fixed (one habit, 365 instances): small at any scale."""
    now = timezone.now()
    data.reset()
    user, habit_id = _habit(now)
    client = Client()
    token = login(client, user.email)
    _get(client, token, habit_id)  # warm-up: imports, connections, the token's state
    uncached = statistics.median(_uncached(client, token, habit_id) for _ in range(REQUESTS))
    cached = statistics.median(_get(client, token, habit_id) for _ in range(REQUESTS))
    label = f"habit with {DAYS} instances, median of {REQUESTS} requests"
    return Result(
        [
            Row(NAME, f"{label}, cached", millis(cached)),
            Row(
                NAME,
                f"{label}, uncached (computed, then stored)",
                millis(uncached),
                f"< {millis(UNCACHED_BUDGET)}",
                uncached < UNCACHED_BUDGET,
            ),
        ]
    )
