"""Scenario: `GET /api/export/` of one user with 50 daily habits and two years of history
(36,500 instances: every status, notes, skips with reasons), as JSON and as Loop's CSV zip.

Through the whole stack with a real JWT, like `stats`: the median of a few requests, each
reading, shaping and encoding the whole history.
"""

import io
import json
import statistics
import zipfile
from datetime import datetime

from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.timezones import local_today
from bench import data, sql
from bench.report import Result, Row, seconds
from bench.today import PASSWORD, TIMEZONE, login

NAME = "export"
HABITS = 50
DAYS = 730
REQUESTS = 3
BUDGET = 5.0

HABITS_SQL = """
INSERT INTO habits_habit (user_id, action, place, time_of_day, is_pleasant, reward_text,
                          periodicity_days, repeat_limit, grace_minutes, fix_minutes,
                          start_date, is_public, is_active, created_at, updated_at)
SELECT %(user)s, 'habit ' || n, 'home', time '06:00' + make_interval(mins => n * 7), false,
       'tea', 1, 45, 30, 120, %(today)s::date - %(days)s, false, true, %(now)s, %(now)s
FROM generate_series(1, %(habits)s) AS n
"""

# Every day of every habit resolved one way or another; a note on one day in five.
INSTANCES_SQL = """
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status,
     completed_at, source, skip_reason, note, created_at, updated_at)
SELECT h.id, h.user_id, d.day, t.at, t.at + interval '30 minutes',
       t.at + interval '150 minutes', s.status,
       CASE WHEN s.status LIKE 'completed%%' THEN t.at + interval '10 minutes' END,
       CASE WHEN s.status LIKE 'completed%%' THEN 'web' ELSE '' END,
       CASE WHEN s.status = 'skipped' THEN 'sick' ELSE '' END,
       CASE WHEN (h.id + extract(doy FROM d.day)::int) %% 5 = 0 THEN 'felt good, 20 min'
            ELSE '' END,
       %(now)s, %(now)s
FROM habits_habit h
CROSS JOIN generate_series(%(today)s::date - %(days)s, %(today)s::date - 1, '1 day') AS d(day)
CROSS JOIN LATERAL (SELECT (d.day::date + h.time_of_day) AT TIME ZONE %(tz)s AS at) t
CROSS JOIN LATERAL (
    SELECT CASE (h.id + extract(doy FROM d.day)::int) %% 13
               WHEN 0 THEN 'missed' WHEN 1 THEN 'fix_expired' WHEN 2 THEN 'skipped'
               WHEN 3 THEN 'completed_late' ELSE 'completed' END AS status) s
WHERE h.user_id = %(user)s
"""


def _account(now: datetime, days: int) -> User:
    user = User.objects.create_user("export@example.com", PASSWORD, timezone=TIMEZONE)
    params = {
        "user": user.pk,
        "today": local_today(TIMEZONE, now),
        "days": days,
        "habits": HABITS,
        "now": now,
        "tz": TIMEZONE,
    }
    sql.execute(HABITS_SQL, params)
    sql.execute(INSTANCES_SQL, params)
    sql.settle("habits_habit", "instances_habitinstance")
    return user


def _json_ok(content: bytes, instances: int) -> bool:
    return len(json.loads(content)["instances"]) == instances


def _zip_ok(content: bytes, instances: int) -> bool:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return len(archive.namelist()) == 3 + 2 * HABITS


def _get(client: Client, token: str, export_format: str, instances: int) -> float:
    path = f"/api/export/?format={export_format}"
    elapsed, response = sql.timed(
        lambda: client.get(path, headers={"Authorization": f"Bearer {token}"})
    )
    check = _json_ok if export_format == "json" else _zip_ok
    if response.status_code != 200 or not check(response.content, instances):
        raise RuntimeError(f"{path} answered {response.status_code}")
    return elapsed


def run(scale: float) -> Result:
    now = timezone.now()
    days = max(7, round(DAYS * scale))
    data.reset()
    user = _account(now, days)
    instances = HABITS * days
    client = Client()
    token = login(client, user.email)
    rows = []
    for export_format in ("json", "loop-csv"):
        elapsed = statistics.median(
            _get(client, token, export_format, instances) for _ in range(REQUESTS)
        )
        rows.append(
            Row(
                NAME,
                f"{export_format}: {HABITS} habits x {days} days ({instances} instances), "
                f"median of {REQUESTS} requests",
                seconds(elapsed),
                f"< {seconds(BUDGET)}",
                elapsed < BUDGET,
            )
        )
    return Result(rows)
