"""Scenario 1: the periodic generation for a million habits, against a naive baseline.

Both statements cover the same (timezone, local date) pairs (each zone's current and next
date) on the same tables, each run starting from empty instance tables after VACUUM ANALYZE
and CHECKPOINT; the two alternate, three runs each, and the medians are compared.
"""

import logging
import statistics
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from bench import data, sql
from bench.report import Result, Row, millis, percent, seconds
from instances.localdays import current_and_next_day
from instances.services import instances_generate

NAME = "generation"
USERS = 10_000
HABITS = 1_000_000
RUNS = 3
RATIO_BUDGET = 1.5
RERUN_BUDGET = 0.10
TABLES = (
    "accounts_user",
    "habits_habit",
    "instances_habitinstance",
    "instances_pause",
    "instances_generatedday",
)

logger = logging.getLogger("bench")

# The simplest statement that does the job: PostgreSQL resolves each local time by itself,
# the course is decided for every candidate by a count of the habit's earlier counted
# instances (taken before the insert starts, as one grouped join: a correlated count per
# candidate turns quadratic when the planner, seeing an analyzed empty table, scans the heap
# the statement is filling), and a correlated lookup finds the covering pause. (It does not
# count a row of the same statement on an earlier date, which the bench data never needs.)
BASELINE_SQL = """
WITH days AS (
    SELECT * FROM unnest(%(tz)s::text[], %(date)s::date[]) AS d(timezone, local_date)
),
counted AS MATERIALIZED (
    SELECT i.habit_id, d.local_date, count(*) AS n
    FROM instances_habitinstance i
    JOIN accounts_user u ON u.id = i.user_id
    JOIN days d ON d.timezone = u.timezone AND i.date < d.local_date
    WHERE i.status <> 'skipped'
    GROUP BY i.habit_id, d.local_date
),
timed AS (
    SELECT h.id AS habit_id, h.user_id, d.local_date, t.at,
           t.at + make_interval(mins => h.grace_minutes) AS grace,
           t.at + make_interval(mins => h.grace_minutes + h.fix_minutes) AS fix,
           p.id AS pause_id, p.reason
    FROM days d
    JOIN accounts_user u ON u.timezone = d.timezone
    JOIN habits_habit h ON h.user_id = u.id
    CROSS JOIN LATERAL (SELECT (d.local_date + h.time_of_day) AT TIME ZONE u.timezone AS at) t
    LEFT JOIN counted c ON c.habit_id = h.id AND c.local_date = d.local_date
    LEFT JOIN LATERAL (
        SELECT p.id, p.reason FROM instances_pause p
        WHERE p.user_id = h.user_id AND (p.habit_id IS NULL OR p.habit_id = h.id)
          AND d.local_date BETWEEN p.start_date AND p.end_date
        ORDER BY p.id LIMIT 1
    ) p ON true
    WHERE h.is_active
      AND d.local_date >= h.start_date
      AND (d.local_date - h.start_date) %% h.periodicity_days = 0
      AND COALESCE(c.n, 0) < h.repeat_limit
)
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status, skip_reason,
     pause_id, source, created_at, updated_at)
SELECT habit_id, user_id, local_date, at, grace, fix,
       CASE WHEN pause_id IS NOT NULL THEN 'skipped'
            WHEN %(now)s > fix THEN 'fix_expired' WHEN %(now)s > grace THEN 'missed'
            WHEN %(now)s >= at THEN 'pending' ELSE 'scheduled' END,
       COALESCE(reason, ''), pause_id, '', %(now)s, %(now)s
FROM timed
ON CONFLICT (habit_id, date) DO NOTHING
"""


# Part one's bare statement: the plain date grid (no course count, no pauses). It does less
# than the job now (no row past the plain limit, none skipped), so its rows differ; it is the
# "bare INSERT … SELECT" the cost of the new rules is measured against.
BARE_SQL = """
WITH days AS (
    SELECT * FROM unnest(%(tz)s::text[], %(date)s::date[]) AS d(timezone, local_date)
),
timed AS (
    SELECT h.id AS habit_id, h.user_id, d.local_date, t.at,
           t.at + make_interval(mins => h.grace_minutes) AS grace,
           t.at + make_interval(mins => h.grace_minutes + h.fix_minutes) AS fix
    FROM days d
    JOIN accounts_user u ON u.timezone = d.timezone
    JOIN habits_habit h ON h.user_id = u.id
    CROSS JOIN LATERAL (SELECT (d.local_date + h.time_of_day) AT TIME ZONE u.timezone AS at) t
    WHERE h.is_active
      AND d.local_date >= h.start_date
      AND (d.local_date - h.start_date) %% h.periodicity_days = 0
      AND (d.local_date - h.start_date) / h.periodicity_days < h.repeat_limit
)
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status, source,
     created_at, updated_at)
SELECT habit_id, user_id, local_date, at, grace, fix,
       CASE WHEN %(now)s > fix THEN 'fix_expired' WHEN %(now)s > grace THEN 'missed'
            WHEN %(now)s >= at THEN 'pending' ELSE 'scheduled' END,
       '', %(now)s, %(now)s
FROM timed
ON CONFLICT (habit_id, date) DO NOTHING
"""


def _baseline_params(now: datetime) -> dict[str, object]:
    days = [(tz, on) for tz in data.TIMEZONES for on in current_and_next_day(tz, now)]
    return {"tz": [tz for tz, _ in days], "date": [on for _, on in days], "now": now}


def _fill(scale: float, now: datetime) -> None:
    users = max(len(data.TIMEZONES), round(USERS * scale))
    habits = max(users, round(HABITS * scale))
    data.reset()
    data.fill_users(users, now)
    elapsed, _ = sql.timed(lambda: data.fill_habits(habits, users, now))
    paused = data.fill_pauses(now)
    logger.info(
        "generation: %s users (%s with a pause), %s habits filled in %.1f s",
        users, paused, habits, elapsed,
    )  # fmt: skip


def _empty_instances() -> None:
    sql.execute("TRUNCATE instances_habitinstance, instances_generatedday CASCADE")


def _timed_baseline(now: datetime) -> tuple[float, int]:
    sql.settle(*TABLES)
    return sql.timed(lambda: sql.execute(BASELINE_SQL, _baseline_params(now)))


def _timed_bare(now: datetime) -> tuple[float, int]:
    sql.settle(*TABLES)
    return sql.timed(lambda: sql.execute(BARE_SQL, _baseline_params(now)))


def _timed_ours(now: datetime) -> tuple[float, int]:
    sql.settle(*TABLES)
    return sql.timed(lambda: instances_generate(now=now))


@dataclass(frozen=True)
class Timing:
    """Seconds and inserted rows of repeated runs of one statement."""

    runs: tuple[tuple[float, int], ...]

    @property
    def median(self) -> float:
        return statistics.median(elapsed for elapsed, _ in self.runs)

    @property
    def counts(self) -> set[int]:
        return {count for _, count in self.runs}

    def show(self) -> str:
        each = ", ".join(f"{elapsed:.1f}" for elapsed, _ in self.runs)
        return f"{seconds(self.median)} (runs: {each} s)"


def _fresh_runs(now: datetime) -> tuple[Timing, Timing, Timing]:
    """Baseline, bare and ours in turn, RUNS times each, every run on emptied tables."""
    baseline, bare, ours = [], [], []
    for _ in range(RUNS):
        _empty_instances()
        baseline.append(_timed_baseline(now))
        _empty_instances()
        bare.append(_timed_bare(now))
        _empty_instances()
        ours.append(_timed_ours(now))
    return Timing(tuple(baseline)), Timing(tuple(bare)), Timing(tuple(ours))


def _rows(
    base: Timing, bare: Timing, ours: Timing, again: float, conflict: float, skipped: int
) -> list[Row]:
    counts = base.counts | ours.counts
    ratio = ours.median / base.median
    over_bare = ours.median / bare.median
    return [
        Row(
            NAME,
            "rows inserted (each run, both statements)",
            " / ".join(f"{count:,}" for count in sorted(counts)),
            "equal",
            len(counts) == 1,
        ),
        Row(NAME, "of them born skipped (10% of users paused)", f"{skipped:,}", "> 0", skipped > 0),
        Row(NAME, f"baseline: naive INSERT … SELECT, median of {RUNS}", base.show()),
        Row(NAME, f"ours: instances_generate(), median of {RUNS}", ours.show()),
        Row(NAME, "ours / baseline", f"{ratio:.2f}x", f"≤ {RATIO_BUDGET}x", ratio <= RATIO_BUDGET),
        Row(
            NAME,
            f"bare: Part one's INSERT … SELECT (grid only), median of {RUNS}",
            f"{bare.show()}, {' / '.join(f'{c:,}' for c in sorted(bare.counts))} rows",
        ),
        Row(
            NAME,
            "ours / bare (the cost of the course and the pauses)",
            f"{over_bare:.2f}x",
            f"≤ {RATIO_BUDGET}x",
            over_bare <= RATIO_BUDGET,
        ),
        Row(NAME, "ours, 2nd run (nothing to insert)", millis(again)),
        Row(
            NAME,
            "ours, 2nd run / 1st run",
            percent(again, ours.median),
            f"< {RERUN_BUDGET:.0%}",
            again < RERUN_BUDGET * ours.median,
        ),
        Row(
            NAME,
            "baseline re-run on the full table (all conflicts) / baseline",
            f"{percent(conflict, base.median)} ({seconds(conflict)})",
            "reference",
        ),
    ]


def run(scale: float) -> Result:
    now = timezone.now()
    _fill(scale, now)
    base, bare, ours = _fresh_runs(now)
    skipped = sql.scalar("SELECT count(*) FROM instances_habitinstance WHERE status = 'skipped'")
    again, _ = _timed_ours(now)
    conflict, _ = _timed_baseline(now)
    logger.info("generation: baseline %s, bare %s, ours %s", base.show(), bare.show(), ours.show())
    return Result(_rows(base, bare, ours, again, conflict, skipped))
