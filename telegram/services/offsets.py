"""The reminder offsets other than 0 (SPEC §8), decided when their moment comes.

Two ways, one rule (instances/reminders.py): on PostgreSQL one statement reads the due rows
by their index, moves each to its next offset and writes the owed outbox rows, so a tick of a
thousand due rows never leaves the database (docs/PERFORMANCE.md); elsewhere (SQLite, the
embedded default) the same in Python. tests/telegram/test_offsets.py runs every case both
ways.
"""

from datetime import datetime

from django.db import connection

from core.bulk import column_set
from instances.models import OPEN_STATUSES, HabitInstance
from instances.reminders import reminder_next, reminders_due
from telegram.models import OutboxKind, OutboxMessage

NOTIFY_BATCH = 5_000

# The offsets other than 0 of a due row `d`, as minutes `o` and moments `d.scheduled_at + o`.
_OFFSETS = """
    SELECT o::int AS minutes, d.scheduled_at + make_interval(mins => o::int) AS at
    FROM jsonb_array_elements_text(d.reminders) o WHERE o::int <> 0
"""
OWE_OFFSETS_SQL = """
WITH d AS (
    SELECT i.id, i.status, i.scheduled_at, i.next_reminder_at AS since, h.reminders,
           h.is_active AND u.is_active AS served, t.telegram_id, t.access_hash
    FROM instances_habitinstance i
    JOIN habits_habit h ON h.id = i.habit_id
    JOIN accounts_user u ON u.id = i.user_id
    LEFT JOIN telegram_telegramprofile t ON t.user_id = i.user_id
    WHERE i.next_reminder_at <= %(now)s
    ORDER BY i.next_reminder_at
    LIMIT %(batch)s
    FOR UPDATE OF i SKIP LOCKED
),
-- Each row moves on to its earliest offset strictly after now, or none (no longer open).
moved AS (
    UPDATE instances_habitinstance i
    SET next_reminder_at = CASE WHEN d.status = ANY(%(open)s) THEN (
        SELECT min(x.at) FROM ({offsets}) x WHERE x.at > %(now)s
    ) END
    FROM d WHERE i.id = d.id
)
-- Of the offsets whose moment is in since..now, only the latest is sent.
INSERT INTO telegram_outboxmessage
    (kind, instance_id, telegram_id, access_hash, next_attempt_at, offset_minutes, text,
     created_at, attempts, last_error)
SELECT %(kind)s, d.id, d.telegram_id, d.access_hash, %(now)s, due.minutes, '', %(now)s, 0, ''
FROM d
CROSS JOIN LATERAL (
    SELECT max(x.minutes) AS minutes FROM ({offsets}) x
    WHERE x.at BETWEEN d.since AND %(now)s
) due
WHERE due.minutes IS NOT NULL AND d.served AND d.status = ANY(%(open)s)
  AND d.telegram_id IS NOT NULL
ON CONFLICT DO NOTHING
""".replace("{offsets}", _OFFSETS)


def owe_offsets(now: datetime) -> int:
    """The offsets whose moment came: outbox rows for them, each row moved on. Returns how
    many reminders were owed."""
    if connection.vendor == "postgresql":
        return _owe_offsets_sql(now)
    return _owe_offsets_portable(now)


def _owe_offsets_sql(now: datetime) -> int:
    params = {
        "now": now,
        "batch": NOTIFY_BATCH,
        "open": [str(s) for s in OPEN_STATUSES],
        "kind": str(OutboxKind.REMINDER),
    }
    with connection.cursor() as cursor:
        cursor.execute(OWE_OFFSETS_SQL, params)
        return cursor.rowcount


def _owe_offsets_portable(now: datetime) -> int:
    """The reminder offsets other than 0 whose moment came (`next_reminder_at`), read by its
    index so the cost follows the due rows. Each row moves on to its next offset (or none);
    an instance no longer open, or whose habit or owner is inactive, just stops. When several
    of an instance's offsets came at once (the decision did not run for a while) only the
    latest is sent: the earlier ones are stale.

    Plain tuples, the owner's Telegram joined in the same read, the moves written in one
    statement (the way SQLite takes; PostgreSQL runs `OWE_OFFSETS_SQL`)."""
    due = list(
        HabitInstance.objects.filter(next_reminder_at__lte=now)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("next_reminder_at")
        .values_list(
            "id", "status", "scheduled_at", "next_reminder_at", "habit__reminders",
            "habit__is_active", "user__is_active", "user__telegram__telegram_id",
            "user__telegram__access_hash",
        )[:NOTIFY_BATCH]
    )  # fmt: skip
    if not due:
        return 0
    moves: dict[int, datetime | None] = {}
    owed: list[OutboxMessage] = []
    for pk, status, scheduled_at, since, reminders, habit_on, user_on, chat, access_hash in due:
        is_open = status in OPEN_STATUSES
        moves[pk] = (
            reminder_next(scheduled_at=scheduled_at, reminders=reminders, after=now, strict=True)
            if is_open
            else None
        )
        offsets = reminders_due(
            scheduled_at=scheduled_at, reminders=reminders, since=since, now=now
        )
        if offsets and is_open and habit_on and user_on and chat is not None:
            owed.append(
                OutboxMessage(kind=OutboxKind.REMINDER, instance_id=pk, telegram_id=chat,
                              access_hash=access_hash, next_attempt_at=now,
                              offset_minutes=offsets[-1])
            )  # fmt: skip
    column_set(HabitInstance, "next_reminder_at", moves)
    return len(OutboxMessage.objects.bulk_create(owed, ignore_conflicts=True))
