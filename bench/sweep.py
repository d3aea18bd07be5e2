"""Scenario 2: the deadline sweep over five million instances, a thousand of them due.

Each habit has one instance a day, as the generation makes them: history is resolved,
today is partly under way (pending and missed rows whose next deadline has not come),
today's rest and tomorrow are scheduled. One instance today of each of the 1,000 users is
made due; each timed run first makes the next 1,000 habits' rows of today due instead, rows
never swept before, as a real tick's are (bench/sweep_data.py, `Due.renew`). The owners of
the due rows are online (a presence count and a channel in their group), so the events
really go out.

The same five million rows are laid out twice: 50,000 habits over 100 days (timed in
full), and 200,000 habits over 25 days, where only the database part and the plans are
measured: the more scheduled rows (the more active habits), the more due rows the planner
expects, which once turned an OR of the three partial indexes into a sequential scan.

The next size: 20,000,000 instances (200,000 habits over 100 days, 20 habits a user) with
10,000 due, of 10,000 distinct users, all online: one tick (instances_sweep(): on
PostgreSQL its SWEEP_SHARDS shards at once, split by habit, each a batch of up to
SWEEP_BATCH and the next, shorter) within 200 ms, and the cost per due row beside the
five-million size's, to show the cost follows the due rows and not the table; one batch's
time is split into its UPDATEs, its COMMIT and its on-commit events, as at five million
(where the tick misses its budget, the rows say where the time goes). The fill is
the same set-based INSERT … SELECT without indexes; at scale 0.01 (200,000 instances) it
took 1.6 s here and at 0.05 (1,000,000) 6.9 s: about 6.6 µs a row past a second of fixed
cost, so at scale 1 expect about 2½ minutes for the INSERT and the rebuilt indexes, 3 to 4
with VACUUM ANALYZE and the CHECKPOINT of a table larger than shared_buffers (the sorts grow
a little faster than the rows), on this 2-CPU machine; about 5 GB of table and indexes.
"""

import logging
import statistics
import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bench import live, plans, sql
from bench.report import Result, Row, millis
from bench.sweep_data import Due, Layout, fill
from instances.services import _sweep_batch, instances_sweep
from instances.services.sweep import SWEEP_BATCH, Shard, _sweep_shard

NAME = "sweep"
RUNS = 5
BUDGET = 0.100
PARTIAL_INDEXES = ("instance_due_pending", "instance_due_missed", "instance_due_expired")
FULL = Layout(habits=50_000, days=100)
MANY_HABITS = Layout(habits=200_000, days=25)
LARGE = Layout(habits=200_000, days=100, due=10_000, habits_per_user=20)
LARGE_BUDGET = 0.200

logger = logging.getLogger("bench")


def _label(layout: Layout, scale: float) -> str:
    return f"{NAME}, {layout.sizes(scale)[1]:,} habits over {layout.days} days"


def _median(call: Callable[[], float]) -> float:
    return statistics.median(call() for _ in range(RUNS))


def _check(moved: int, due: Due, expected: int | None = None) -> None:
    """The sweep moved every due row, or `expected` of them (one batch of more due rows)."""
    wanted = len(due.ids) if expected is None else expected
    if moved != wanted:
        raise RuntimeError(f"the sweep moved {moved} instances, {wanted} expected")


def _whole_sweep(now: datetime, due: Due) -> float:
    due.renew()
    elapsed, moved = sql.timed(lambda: instances_sweep(now=now))
    _check(moved, due)
    return elapsed


def _split_sweep(now: datetime, due: Due) -> dict[str, float]:
    """One batch in a transaction of ours: (batch, commit, on-commit events) seconds; the
    batch moves every due row, or SWEEP_BATCH of them when more are due.

    Our own on-commit mark is registered first, so it runs right after COMMIT and before
    the sweep's callbacks.
    """
    due.renew()
    marks = {"start": time.perf_counter()}
    with transaction.atomic():
        transaction.on_commit(lambda: marks.setdefault("committed", time.perf_counter()))
        _check(len(_sweep_batch(now)), due, min(len(due.ids), SWEEP_BATCH))
        marks["batch"] = time.perf_counter()
    marks["end"] = time.perf_counter()
    return {
        "batch": marks["batch"] - marks["start"],
        "commit": marks["committed"] - marks["batch"],
        "events": marks["end"] - marks["committed"],
    }


def _split_medians(now: datetime, due: Due) -> dict[str, float]:
    runs = [_split_sweep(now, due) for _ in range(RUNS)]
    return {part: statistics.median(run[part] for run in runs) for part in runs[0]}


def _batch_rolled_back(now: datetime, due: Due, *, seqscan: bool = True) -> float:
    """The batch's UPDATEs (one an arm, each reading its due rows FOR UPDATE SKIP LOCKED) and
    the reactions within its transaction, rolled back (no commit, no after-commit events).

    `seqscan=False` is a diagnostic: the batch when the planner may not scan the table.
    """
    due.renew()
    with transaction.atomic():
        if not seqscan:
            sql.execute("SET LOCAL enable_seqscan = off")
        elapsed, moved = sql.timed(lambda: _sweep_batch(now))
        transaction.set_rollback(True)
    _check(len(moved), due)
    return elapsed


def _is_due_statement(statement: str) -> bool:
    """An arm's UPDATE, whose subquery reads the due rows (FOR UPDATE SKIP LOCKED)."""
    return statement.lstrip().upper().startswith("UPDATE") and "SKIP LOCKED" in statement


def _plan_rows(scenario: str, found: list[plans.Scan]) -> list[Row]:
    used = {scan.name for scan in found} & set(PARTIAL_INDEXES)
    ok = used == set(PARTIAL_INDEXES) and not any(s.kind == "Seq Scan" for s in found)
    rows = ", ".join(f"{s.name} {s.estimated:,} / {s.actual:,}" for s in found)
    return [
        Row(
            scenario, "due-row statements: scans", plans.summary(found), "the 3 partial indexes", ok
        ),
        Row(scenario, "due-row statements: rows estimated / actual", rows),
    ]


def _explained(scenario: str, now: datetime) -> tuple[list[Row], str]:
    """Rows and a note from EXPLAIN ANALYZE of the arms' UPDATEs one shard of a tick runs
    (rolled back): one batch while its due rows fit in one, else each batch's, the last
    reading all three arms. The first of SWEEP_SHARDS, as a tick runs it (its habits' rows
    filtered as the partial index is read)."""
    shard = Shard(0, settings.SWEEP_SHARDS)
    statements = plans.statements_of(lambda: _sweep_shard(now, shard), keep=_is_due_statement)
    explained = plans.explain(statements)
    found = [scan for plan in explained for scan in plans.scans(plan)]
    note = plans.as_note(f"{scenario}: the due-row statements of one sweep", statements, explained)
    return _plan_rows(scenario, found), note


def _size_row(scenario: str, due: Due) -> Row:
    total = sql.scalar("SELECT count(*) FROM instances_habitinstance")
    scheduled = sql.scalar(
        "SELECT count(*) FROM instances_habitinstance WHERE status = 'scheduled'"
    )
    value = f"{total:,} ({scheduled:,} scheduled, {len(due.ids):,} of them due)"
    return Row(scenario, "instances in the table", value)


def _timing_rows(scenario: str, now: datetime, due: Due) -> list[Row]:
    alone = _median(lambda: _whole_sweep(now, due))
    with live.online(due.user_ids):
        whole = _median(lambda: _whole_sweep(now, due))
        parts = _split_medians(now, due)
    online = f"owners of the due rows online ({len(due.user_ids):,})"
    return [
        Row(
            scenario,
            f"instances_sweep(), {online}, median of {RUNS}",
            millis(whole),
            f"< {millis(BUDGET)}",
            whole < BUDGET,
        ),
        Row(scenario, "· per due row (its tick / its due rows)", _per_due_row(whole, due)),
        Row(
            scenario,
            "· of which _sweep_batch(): the arms' UPDATEs + reactions within",
            millis(parts["batch"]),
        ),
        Row(scenario, "· of which COMMIT", millis(parts["commit"])),
        Row(
            scenario,
            "· of which on-commit events (presence, re-read, sends, stats)",
            millis(parts["events"]),
        ),
        Row(scenario, f"instances_sweep(), nobody online, median of {RUNS}", millis(alone)),
    ]


def _db_rows(scenario: str, now: datetime, due: Due) -> list[Row]:
    batch = _median(lambda: _batch_rolled_back(now, due))
    forced = _median(lambda: _batch_rolled_back(now, due, seqscan=False))
    return [
        Row(
            scenario,
            f"_sweep_batch() rolled back, median of {RUNS}",
            millis(batch),
            f"< {millis(BUDGET)}",
            batch < BUDGET,
        ),
        Row(scenario, "diagnostic: the same with enable_seqscan off", millis(forced)),
    ]


def _per_due_row(tick: float, due: Due) -> str:
    return f"{tick / len(due.ids) * 1e6:,.1f} µs"


def _tick_rows(scenario: str, now: datetime, due: Due) -> list[Row]:
    """The next size: whole ticks only (its due rows take more than one batch) and the cost
    per due row, to set beside the five-million size's."""
    alone = _median(lambda: _whole_sweep(now, due))
    with live.online(due.user_ids):
        whole = _median(lambda: _whole_sweep(now, due))
        parts = _split_medians(now, due)
    online = f"owners of the due rows online ({len(due.user_ids):,})"
    batch = f"one batch of {SWEEP_BATCH:,}"
    return [
        Row(
            scenario,
            f"one tick: instances_sweep(), {online}, median of {RUNS}",
            millis(whole),
            f"< {millis(LARGE_BUDGET)}",
            whole < LARGE_BUDGET,
        ),
        Row(
            scenario,
            "· per due row (its tick / its due rows; the 5,000,000 size's above)",
            _per_due_row(whole, due),
        ),
        # Where a tick's time goes at this size (the budget's breakdown), batch by batch.
        Row(
            scenario,
            f"· {batch}: _sweep_batch(), the arms' UPDATEs + reactions within",
            millis(parts["batch"]),
        ),
        Row(scenario, f"· {batch}: COMMIT", millis(parts["commit"])),
        Row(
            scenario,
            f"· {batch}: on-commit events (forgets, presence, frames, stats)",
            millis(parts["events"]),
        ),
        Row(scenario, f"instances_sweep(), nobody online, median of {RUNS}", millis(alone)),
    ]


Timings = Callable[[str, datetime, Due], list[Row]]


def _measure(layout: Layout, scale: float, timings: Timings) -> Result:
    now, label = timezone.now(), _label(layout, scale)
    elapsed, due = sql.timed(lambda: fill(layout, scale, now))
    logger.info("%s: %s due, filled in %.1f s", label, len(due.ids), elapsed)
    plan_rows, note = _explained(label, now)
    rows = [
        _size_row(label, due),
        Row(
            label, "fill (set-based INSERT … SELECT, indexes rebuilt, settled)", f"{elapsed:.1f} s"
        ),
        *timings(label, now, due),
        *plan_rows,
    ]
    return Result(rows, [note])


def run(scale: float) -> Result:
    measured = [
        _measure(FULL, scale, _timing_rows),
        _measure(MANY_HABITS, scale, _db_rows),
        _measure(LARGE, scale, _tick_rows),
    ]
    return Result(
        [row for result in measured for row in result.rows],
        [note for result in measured for note in result.notes],
    )
