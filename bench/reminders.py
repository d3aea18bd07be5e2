"""Scenario: reminder offsets (SPEC §8). 100,000 users bound to Telegram, one habit each with
three offsets (-30, 0, 30), an instance today and tomorrow each: 200,000 rows with an offset
still ahead, 1,000 of them due. One decision tick (`notifications_decide`, what beat runs
every 30 s) must owe exactly the 1,000 reminders, reading the due rows by their index
(`instance_reminder_due`), in under 100 ms. Each timed run re-arms the due rows first.
"""

import logging
import statistics
from datetime import datetime

from django.utils import timezone

from bench import data, plans, sql
from bench.report import Result, Row, millis
from telegram.services import notifications_decide

NAME = "reminders"
USERS = 100_000
DUE = 1_000
RUNS = 5
BUDGET = 0.100
INDEX = "instance_reminder_due"
TABLES = ("accounts_user", "habits_habit", "instances_habitinstance", "telegram_telegramprofile")

logger = logging.getLogger("bench")

PROFILES_SQL = """
INSERT INTO telegram_telegramprofile (user_id, telegram_id, access_hash, username, bound_at)
SELECT id, 1000000000 + id, 0, '', %(now)s FROM accounts_user
"""
OFFSETS_SQL = "UPDATE habits_habit SET reminders = '[-30, 0, 30]'::jsonb"
# Today's and tomorrow's instance of every habit, an hour or more ahead: its -30 reminder is
# still to come.
INSTANCES_SQL = """
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status, source,
     next_reminder_at, created_at, updated_at)
SELECT h.id, h.user_id, %(today)s::date + d.n, t.at, t.at + interval '30 minutes',
       t.at + interval '150 minutes', 'scheduled', '', t.at - interval '30 minutes',
       %(now)s, %(now)s
FROM habits_habit h
CROSS JOIN generate_series(0, 1) AS d(n)
CROSS JOIN LATERAL (SELECT %(now)s::timestamptz + interval '1 hour'
                           + make_interval(days => d.n, secs => h.id %% 3600) AS at) t
"""
# The first `due` habits' today instance: its -30 reminder came up to a minute ago.
MAKE_DUE_SQL = """
UPDATE instances_habitinstance
SET scheduled_at = %(now)s + interval '30 minutes' - make_interval(secs => habit_id %% 60),
    grace_deadline = %(now)s + interval '60 minutes' - make_interval(secs => habit_id %% 60),
    fix_deadline = %(now)s + interval '180 minutes' - make_interval(secs => habit_id %% 60),
    next_reminder_at = %(now)s - make_interval(secs => habit_id %% 60)
WHERE habit_id <= %(due)s AND date = %(today)s
RETURNING id
"""
REARM_SQL = """
UPDATE instances_habitinstance SET next_reminder_at = scheduled_at - interval '30 minutes'
WHERE id = ANY(%(ids)s)
"""


def _rearm(due: list[int]) -> None:
    sql.execute(REARM_SQL, {"ids": due})
    sql.execute("DELETE FROM telegram_outboxmessage")


def _sizes(scale: float) -> tuple[int, int]:
    users = max(10, round(USERS * scale))
    return users, max(1, min(users, round(DUE * scale)))


def _fill(scale: float, now: datetime) -> list[int]:
    users, due = _sizes(scale)
    data.reset()
    data.fill_users(users, now)
    data.fill_habits(users, users, now)  # one habit a user
    sql.execute(OFFSETS_SQL)
    sql.execute(PROFILES_SQL, {"now": now})
    with sql.without_indexes("instances_habitinstance"):
        sql.execute(INSTANCES_SQL, {"now": now, "today": now.date()})
    rows = sql.fetch(MAKE_DUE_SQL, {"now": now, "due": due, "today": now.date()})
    sql.settle(*TABLES)
    return [pk for (pk,) in rows]


def _tick(now: datetime, due: list[int]) -> float:
    _rearm(due)
    elapsed, owed = sql.timed(lambda: notifications_decide(now=now))
    if owed != len(due):
        raise RuntimeError(f"the decision owed {owed} reminders, {len(due)} were due")
    return elapsed


def _is_due_select(statement: str) -> bool:
    """The statement that reads the due rows (on PostgreSQL, the one statement of the tick)."""
    return "next_reminder_at" in statement and "<=" in statement


def run(scale: float) -> Result:
    now = timezone.now()
    users, _ = _sizes(scale)
    label = f"{NAME}, {users:,} users x 3 offsets"
    elapsed, due = sql.timed(lambda: _fill(scale, now))
    logger.info("%s: %s due, filled in %.1f s", label, len(due), elapsed)
    tick = statistics.median(_tick(now, due) for _ in range(RUNS))
    _rearm(due)
    statements = plans.statements_of(lambda: notifications_decide(now=now), keep=_is_due_select)
    explained = plans.explain(statements)
    found = [scan for plan in explained for scan in plans.scans(plan)]
    armed = sql.scalar(
        "SELECT count(*) FROM instances_habitinstance WHERE next_reminder_at IS NOT NULL"
    )
    rows = [
        Row(label, "instances with an offset ahead", f"{armed:,} ({len(due):,} of them due)"),
        Row(label, f"one decision tick, notifications_decide(), median of {RUNS}",
            millis(tick), f"< {millis(BUDGET)}", tick < BUDGET),
        Row(label, "due-row statement: scans", plans.summary(found), INDEX,
            any(s.name == INDEX for s in found) and not any(s.kind == "Seq Scan" for s in found)),
    ]  # fmt: skip
    note = plans.as_note(f"{label}: the due-row statement of one tick", statements, explained)
    return Result(rows, [note])
