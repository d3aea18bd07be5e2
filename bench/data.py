"""Set-based fills shared by the scenarios (generate_series, never the ORM row by row)."""

from datetime import datetime

from bench import database, sql

# Twenty real IANA zones: both hemispheres' DST rules, half- and quarter-hour offsets.
TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "Africa/Cairo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "America/St_Johns",
)

APP_TABLES = (
    "accounts_user",
    "accounts_refreshtoken",
    "habits_habit",
    "instances_habitinstance",
    "instances_pause",
    "instances_generatedday",
)

USERS_SQL = """
INSERT INTO accounts_user (password, is_superuser, email, timezone, is_active, is_staff,
                           date_joined, token_version)
SELECT '!', false, 'bench' || n || '@example.com',
       (%(tz)s::text[])[1 + n %% cardinality(%(tz)s::text[])], true, false, %(now)s, 0
FROM generate_series(1, %(users)s) AS n
"""

# Habit n belongs to user 1 + n % users (users interleaved, as habits are created over
# time). Its start is k periods before its owner's local today, k in 0..49, and every one is
# due today (daily ones tomorrow too): the 10% with k >= 45 are past grid step 45, their
# repeat limit, so the generator counts their earlier instances (none: still in the course).
HABITS_SQL = """
INSERT INTO habits_habit (user_id, action, place, time_of_day, is_pleasant, reward_text,
                          related_pleasant_habit_id, periodicity_days, repeat_limit,
                          grace_minutes, fix_minutes, start_date, is_public, is_active,
                          created_at, updated_at)
SELECT u.id, 'habit ' || g.n, 'home',
       time '00:00' + make_interval(mins => g.n %% 1440 * 7919 %% 1440),
       p.pleasant, CASE WHEN p.pleasant THEN NULL ELSE 'a treat' END, NULL,
       p.days, 45, (ARRAY[0, 15, 30, 60])[1 + g.n %% 4], (ARRAY[60, 120, 240])[1 + g.n %% 3],
       (%(now)s::timestamptz AT TIME ZONE u.timezone)::date - p.days * (g.n / 5 %% 50),
       g.n %% 10 = 0, true, %(now)s, %(now)s
FROM generate_series(0, %(habits)s - 1) AS g(n)
JOIN accounts_user u ON u.id = 1 + g.n %% %(users)s
CROSS JOIN LATERAL (SELECT (ARRAY[1, 2, 3, 5, 7])[1 + g.n %% 5] AS days,
                           g.n / 7 %% 5 = 0 AS pleasant) p
"""


def reset() -> None:
    """Empty every table a scenario fills; ids start at 1 again, so the app's Redis state
    (cached token states, `today` lists, stats) of the old ids goes too."""
    sql.execute(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE")
    database.claim_redis()


def fill_users(count: int, now: datetime) -> None:
    """`count` users with ids 1..count, spread round-robin over `TIMEZONES`."""
    sql.execute(USERS_SQL, {"tz": list(TIMEZONES), "users": count, "now": now})
    if sql.scalar("SELECT max(id) FROM accounts_user") != count:
        raise RuntimeError("user ids do not run 1..count")


# Every tenth user has paused every habit from yesterday to two days ahead (local dates): the
# days generated are born skipped.
PAUSES_SQL = """
INSERT INTO instances_pause (user_id, habit_id, start_date, end_date, reason, created_at)
SELECT u.id, NULL, today - 1, today + 2, 'rest', %(now)s
FROM accounts_user u
CROSS JOIN LATERAL (SELECT (%(now)s::timestamptz AT TIME ZONE u.timezone)::date AS today) t
WHERE u.id %% 10 = 0
"""


def fill_pauses(now: datetime) -> int:
    """A pause of every habit over the generated days for 10% of the users."""
    return sql.execute(PAUSES_SQL, {"now": now})


def fill_habits(count: int, users: int, now: datetime) -> None:
    """`count` active habits of users 1..users, bulk-loaded without indexes."""
    with sql.without_indexes("habits_habit"):
        sql.execute(HABITS_SQL, {"habits": count, "users": users, "now": now})


# One instance today of each active habit (of one user, or all), under way for ten minutes
# and due in twelve hours: completing it over REST changes it (a bench re-arms it after).
PENDING_SQL = """
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status,
     completed_at, source, created_at, updated_at)
SELECT h.id, h.user_id, h.start_date, %(now)s - interval '10 minutes',
       %(now)s + interval '12 hours', %(now)s + interval '36 hours', 'pending', NULL, '',
       %(now)s, %(now)s
FROM habits_habit h
WHERE h.is_active AND (%(user)s::bigint IS NULL OR h.user_id = %(user)s)
ORDER BY h.id
RETURNING user_id, id
"""


def fill_pending(now: datetime, user_id: int | None = None) -> list[tuple[int, int]]:
    """(user_id, instance_id) of a pending instance on each habit's start date (use habits
    starting today), for one user's habits or everyone's, ids in habit order."""
    return [(user, pk) for user, pk in sql.fetch(PENDING_SQL, {"now": now, "user": user_id})]
