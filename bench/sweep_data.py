"""The sweep's data: millions of instances, one a day per habit, some of today's due.

Set-based SQL only: users and habits by generate_series, the instances by one INSERT … SELECT
over habits and days with the table's keys and indexes dropped and rebuilt after (one sort per
index instead of a page split per row), then VACUUM ANALYZE and a CHECKPOINT (sql.settle).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from bench import data, sql

INSTANCES = 5_000_000
HABITS_PER_USER = 50
DUE = 1_000
TABLES = ("accounts_user", "habits_habit", "instances_habitinstance")

INSTANCES_SQL = """
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status,
     completed_at, source, created_at, updated_at)
SELECT t.habit_id, t.user_id, t.day, t.at, t.grace, t.fix, s.status,
       CASE s.status WHEN 'completed' THEN t.at + interval '5 minutes'
                     WHEN 'completed_late' THEN t.grace + interval '5 minutes' END,
       CASE WHEN s.status LIKE 'completed%%' THEN 'web' ELSE '' END,
       t.at - interval '1 day', t.at
FROM (
    SELECT h.id AS habit_id, h.user_id, o.day, o.at, h.id + o.n AS k,
           o.at + make_interval(mins => h.grace_minutes) AS grace,
           o.at + make_interval(mins => h.grace_minutes + h.fix_minutes) AS fix
    FROM habits_habit h
    CROSS JOIN generate_series(0, %(days)s - 1) AS g(n)
    CROSS JOIN LATERAL (SELECT g.n, %(first)s::date + g.n AS day,
                               (%(first)s::date + g.n + h.time_of_day) AT TIME ZONE 'UTC' AS at) o
) t
CROSS JOIN LATERAL (SELECT CASE
    WHEN t.at > %(now)s THEN 'scheduled'
    WHEN t.grace >= %(now)s THEN 'pending'
    WHEN t.fix >= %(now)s THEN 'missed'
    WHEN t.k %% 10 < 2 THEN 'fix_expired'
    WHEN t.k %% 10 = 2 THEN 'completed_late'
    ELSE 'completed' END AS status) s
"""

# Today's instance of `due` habits from `first` on (of as many users: habits are dealt to users
# round-robin) becomes scheduled, 1 to 180 minutes ago: the sweep makes it pending, missed or
# fix_expired by its deadlines.
MAKE_DUE_SQL = """
UPDATE instances_habitinstance
SET status = 'scheduled', completed_at = NULL, source = '',
    scheduled_at = %(now)s - make_interval(mins => 1 + habit_id::int %% 180),
    grace_deadline = %(now)s - make_interval(mins => 1 + habit_id::int %% 180)
                     + (grace_deadline - scheduled_at),
    fix_deadline = %(now)s - make_interval(mins => 1 + habit_id::int %% 180)
                   + (fix_deadline - scheduled_at)
WHERE habit_id >= %(first)s AND habit_id < %(first)s + %(due)s AND date = %(today)s
RETURNING id, user_id
"""
# Rows a run left due (it rolled back) are put out of the next run's way, final.
RETIRE_SQL = """
UPDATE instances_habitinstance SET status = 'fix_expired'
WHERE id = ANY(%(ids)s) AND status = 'scheduled'
"""


@dataclass(frozen=True)
class Layout:
    """`habits` habits with an instance on each of `days` days, the last two to come."""

    habits: int
    days: int
    due: int = DUE
    # Fewer habits a user where more are due: each due instance belongs to a user of its own.
    habits_per_user: int = HABITS_PER_USER

    @property
    def instances(self) -> int:
        return self.habits * self.days

    def sizes(self, scale: float) -> tuple[int, int, int]:
        """(users, habits, due) at `scale`; the due instances belong to distinct users."""
        habits = max(self.habits_per_user, round(self.habits * scale))
        users = max(1, habits // self.habits_per_user)
        return users, habits, max(1, min(users, round(self.due * scale)))


@dataclass
class Due:
    """The due instances of the next timed run and their owners.

    Each run takes the rows of other habits, never swept before, as a real tick's due rows
    are (`renew`). Re-arming the same rows each run, as earlier rounds did, left two dead
    versions of each behind a run, in every index: the later runs walked them, and got slower
    one after the other (docs/PERFORMANCE.md, seventh round). The earlier runs' dead index
    entries stay, as a server's stay between its ticks until a vacuum."""

    ids: list[int]
    user_ids: list[int]
    now: datetime
    habits: int  # in the table
    taken: int  # habits whose instance of today was made due so far

    def renew(self) -> None:
        """Today's instance of the next `len(ids)` habits becomes due (their owners are the
        same users when as many are due as there are users, as in the timed layouts)."""
        count = len(self.ids)
        if self.taken + count > self.habits:
            raise RuntimeError(f"no habits left to make due: {self.habits // count} runs at most")
        sql.execute(RETIRE_SQL, {"ids": self.ids})
        self.ids, self.user_ids = _make_due(self.now, self.taken + 1, count)
        self.taken += count


def _make_due(now: datetime, first: int, count: int) -> tuple[list[int], list[int]]:
    rows = sql.fetch(MAKE_DUE_SQL, {"now": now, "first": first, "due": count, "today": now.date()})
    return [pk for pk, _ in rows], sorted({user_id for _, user_id in rows})


def fill(layout: Layout, scale: float, now: datetime) -> Due:
    users, habits, due = layout.sizes(scale)
    data.reset()
    data.fill_users(users, now)
    data.fill_habits(habits, users, now)
    first = now.date() - timedelta(days=layout.days - 2)
    with sql.without_indexes("instances_habitinstance"):
        sql.execute(INSTANCES_SQL, {"days": layout.days, "first": first, "now": now})
    ids, user_ids = _make_due(now, 1, due)
    sql.settle(*TABLES)
    return Due(ids, user_ids, now, habits, taken=due)
