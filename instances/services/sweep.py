"""The deadline sweep: due instances move to the status the clock gives them."""

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from instances.clock import status_by_clock_sql
from instances.events import INSTANCE_UPDATED
from instances.models import HabitInstance, Status
from instances.services.generate import _record_instances

SWEEP_BATCH = 5_000
# A shard takes habits in runs of consecutive ids (see `Shard`).
HABITS_A_RUN = 1_024


# Each arm reads its own partial index in deadline order and stops after the batch, so the
# cost follows the due rows, not the table (a planner estimate cannot turn it into a scan).
SWEEP_ARMS = (
    (Status.SCHEDULED, "scheduled_at", "<="),
    (Status.PENDING, "grace_deadline", "<"),
    (Status.MISSED, "fix_deadline", "<"),
)


class Shard(NamedTuple):
    """The habits a sweep takes: of the runs of HABITS_A_RUN consecutive habit ids, those
    whose number is `index` modulo `count`. A run's due rows lie together in every index of
    the table and, written a day at a time, on the same heap pages: shards taking alternate
    habits locked and wrote the same pages at once (their UPDATEs together took a fifth
    longer, docs/PERFORMANCE.md)."""

    index: int
    count: int


EVERYONE = Shard(0, 1)


class Moved(NamedTuple):
    """A row the sweep changed, as its UPDATE left it."""

    id: int
    user_id: int
    habit_id: int
    date: date | str  # SQLite answers its ISO text, which orders the same
    status: str


_TABLE = HabitInstance._meta.db_table
_NEW_STATUS = status_by_clock_sql(
    now="%(now)s", at="scheduled_at", grace="grace_deadline", fix="fix_deadline"
)


def _arm_sql(status: str, deadline: str, op: str, *, sharded: bool = False) -> str:
    """One arm as one statement: its due rows, locked in deadline order, moved and returned.

    The rows come back with the UPDATE (no list of ids to Python and out again in `IN (…)`).
    SKIP LOCKED: rows another sweep or a completion holds are theirs to change; a second sweep
    running at once takes disjoint rows, so each instance changes once. The lock re-reads each
    row's status as committed, so the UPDATE needs no filter of its own. On PostgreSQL the
    ids are gathered into an array first (`= ANY(ARRAY(…))`): the UPDATE then finds each by
    its primary key whatever the planner expects of the subquery, where `IN (subquery)` let
    it hash-join a scan of the table's open rows. SQLite has no row locks (its transaction
    holds the whole file from its start, `IMMEDIATE`) and no arrays.

    `sharded`: only the rows of the shard's habits (`%(shard)s`, `%(shards)s`, `%(run)s`),
    filtered as the partial index is read, before a row is locked."""
    habits = "MOD(habit_id / %(run)s, %(shards)s) = %(shard)s AND " if sharded else ""
    due = (
        f"SELECT id FROM {_TABLE} WHERE status = '{status}' AND {habits}"  # noqa: S608
        f"{deadline} {op} %(now)s ORDER BY {deadline} LIMIT %(limit)s"
    )
    if connection.vendor == "postgresql":
        moving = f"id = ANY(ARRAY({due} FOR UPDATE SKIP LOCKED))"
    else:
        moving = f"id IN ({due})"
    return (
        f"UPDATE {_TABLE} SET status = {_NEW_STATUS}, updated_at = %(now)s "  # noqa: S608
        f"WHERE {moving} RETURNING id, user_id, habit_id, date, status"
    )


def _move_due(now: datetime, shard: Shard = EVERYONE) -> list[Moved]:
    """Move the due instances of the shard's habits, at most SWEEP_BATCH: one statement an
    arm, the arms in order (a row one arm moves is not due for the next: its new status is
    the clock's)."""
    moved: list[Moved] = []
    at = connection.ops.adapt_datetimefield_value(now)
    sharded = shard.count > 1
    params = {"now": at, "shard": shard.index, "shards": shard.count, "run": HABITS_A_RUN}
    with connection.cursor() as cursor:
        for arm in SWEEP_ARMS:
            if len(moved) == SWEEP_BATCH:
                break
            params["limit"] = SWEEP_BATCH - len(moved)
            cursor.execute(_arm_sql(*arm, sharded=sharded), params)
            moved += [Moved(*row) for row in cursor.fetchall()]
    return moved


@transaction.atomic
def _sweep_batch(now: datetime, shard: Shard = EVERYONE) -> list[int]:
    moved = _move_due(now, shard)
    ids = [row.id for row in moved]
    expired = [row for row in moved if row.status == Status.FIX_EXPIRED]
    if ids:
        _record_instances(
            INSTANCE_UPDATED,
            ids=ids,
            user_ids={row.user_id for row in moved},
            # `{habit_id: user_id}`, from the UPDATE: the stats forgets read nothing more.
            owners={row.habit_id: row.user_id for row in moved},
            swept=True,
            # The habits of those the clock made final (fix_expired): only they can finish a
            # course, so the program check reads these alone (a tick of moves to pending
            # reads nothing), and their earliest date, from which it looks for an occurrence
            # still open.
            expired_habits={row.habit_id for row in expired},
            expired_since=_earliest(row.date for row in expired),
        )
    return ids


def _earliest(dates: Iterable[date | str]) -> date | None:
    """The earliest of the dates, as a date (SQLite returns its ISO text, which orders the
    same)."""
    earliest = min(dates, default=None)
    return date.fromisoformat(earliest) if isinstance(earliest, str) else earliest


def instances_sweep(*, now: datetime | None = None, shards: int | None = None) -> int:
    """Move every due instance to the status the clock gives it; returns how many moved.

    On PostgreSQL the habits are split in `shards` (settings.SWEEP_SHARDS), each swept on a
    thread and connection of its own, batch after batch: the UPDATEs of one overlap the
    other's reactions, and on more than one core its UPDATEs. All of a habit's instances are
    in one shard, so one transaction alone expires a habit's last open occurrences and sees
    its course finish (split by instance, or by owner, which an admin can change under old
    rows, two transactions could each expire one of the last two and neither see the other's).
    Called inside a transaction (a test, the bench's plans), or on SQLite (one writer at a
    time), it runs in the caller's connection, whole."""
    now = now or timezone.now()
    count = settings.SWEEP_SHARDS if shards is None else shards
    if count <= 1 or connection.in_atomic_block or connection.vendor != "postgresql":
        return _sweep_shard(now, EVERYONE)
    with ThreadPoolExecutor(count, thread_name_prefix="sweep") as pool:
        shards_of_tick = [Shard(index, count) for index in range(count)]
        return sum(pool.map(_sweep_shard_on_own_connection, [now] * count, shards_of_tick))


def _sweep_shard(now: datetime, shard: Shard) -> int:
    moved = 0
    while True:
        ids = _sweep_batch(now, shard)
        moved += len(ids)
        if len(ids) < SWEEP_BATCH:
            return moved


def _sweep_shard_on_own_connection(now: datetime, shard: Shard) -> int:
    """A shard on a thread: its connection is its own (Django's are per thread) and closed
    when it ends, so no connection outlives the tick."""
    try:
        return _sweep_shard(now, shard)
    finally:
        connection.close()
