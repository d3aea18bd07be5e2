"""Sizes for the capacity model (docs/SCALING.md): the constants the bench table lacks.

    nice -n 19 .venv/bin/python -m bench.capacity [--only rows|redis|sockets]
        [--instances 2000000] [--sockets 1000]

- rows: the instance table filled set-based (sweep_data's statement: one row a day per
  habit, three habits a user), then its bytes a row (heap, TOAST, each index) and the
  sweep's database part (`_sweep_batch()`, 1,000 due, rolled back) at that size;
- redis: the Redis commands one request sends (cached and uncached `today`, the dashboard's
  other reads, a completion with the owner offline and online), counted by MONITOR on the
  run's own Redis database, in process through Django's test client;
- sockets: one web worker (production's command) holding N idle sockets for 30 s: its CPU,
  its resident memory and the Redis commands the sockets' heartbeats send.

Like `python -m bench`, it makes and drops its own database and Redis slot, and prints
markdown. Run it on a quiet machine; it is not part of the suite.
"""

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import redis

from bench import database

RUNS = 5
REQUESTS = 20
WINDOW_SECONDS = 30.0
MARK = "capacity:mark:"


# --- rows -----------------------------------------------------------------------------------


def _fill_year_like(instances: int, now: datetime):
    """`instances` rows: habits of three each over 100 days, the last two to come."""
    from bench import data, sql
    from bench.sweep_data import INSTANCES_SQL, MAKE_DUE_SQL, TABLES, Due

    days = 100
    habits = instances // days
    users = max(1, habits // 3)
    data.reset()
    data.fill_users(users, now)
    data.fill_habits(habits, users, now)
    first = now.date() - timedelta(days=days - 2)
    with sql.without_indexes("instances_habitinstance"):
        sql.execute(INSTANCES_SQL, {"days": days, "first": first, "now": now})
    rows = sql.fetch(MAKE_DUE_SQL, {"now": now, "due": 1_000, "today": now.date()})
    sql.settle(*TABLES)
    return Due([pk for pk, _ in rows], sorted({user_id for _, user_id in rows}))


def _relation_sizes(table: str) -> tuple[int, int, int, list[tuple[str, int]]]:
    """(rows, heap bytes, TOAST bytes, [(index, bytes)])."""
    from django.db import connection

    from bench import sql

    rows = sql.scalar(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
    heap = sql.scalar("SELECT pg_relation_size(%s::regclass)", [table])
    total = sql.scalar("SELECT pg_total_relation_size(%s::regclass)", [table])
    indexes = sql.fetch(
        """
        SELECT indexrelid::regclass::text, pg_relation_size(indexrelid)
        FROM pg_index WHERE indrelid = %s::regclass ORDER BY 2 DESC
        """,
        [table],
    )
    toast = total - heap - sum(size for _, size in indexes)
    return rows, heap, toast, indexes


def rows_part(instances: int) -> str:
    from django.utils import timezone

    from bench import sql
    from bench.sweep import _batch_rolled_back

    now = timezone.now()
    filled, due = sql.timed(lambda: _fill_year_like(instances, now))
    lines = [f"### rows: {instances:,} instances (filled in {filled:.0f} s)", ""]
    lines += ["| relation | rows | bytes | bytes a row |", "|---|---|---|---|"]
    for table in ("instances_habitinstance", "habits_habit", "accounts_user"):
        count, heap, toast, indexes = _relation_sizes(table)
        total = heap + toast + sum(size for _, size in indexes)
        lines.append(f"| {table}: all | {count:,} | {total:,} | {total / count:.0f} |")
        lines.append(f"| · heap | | {heap:,} | {heap / count:.0f} |")
        lines.append(f"| · TOAST | | {toast:,} | {toast / count:.1f} |")
        lines += [f"| · {name} | | {size:,} | {size / count:.1f} |" for name, size in indexes]
    times = [_batch_rolled_back(now, due) for _ in range(RUNS)]
    lines += [
        "",
        f"- _sweep_batch() with {len(due.ids):,} due, rolled back, median of {RUNS}: "
        f"{statistics.median(times) * 1e3:.1f} ms "
        f"(runs: {', '.join(f'{t * 1e3:.1f}' for t in times)} ms)",
        _generation_line(now),
    ]
    return "\n".join(lines)


def _generation_line(now: datetime) -> str:
    """The periodic generation into the full table, as it runs day after day: the rows of
    dates after today (UTC) deleted and every day marked generated forgotten, then
    `instances_generate()` puts back each user's next local date (scheduled rows; the
    current dates are there already: conflicts), counting each habit's course over its
    history."""
    from django.db import connection

    from bench import sql
    from instances.services import instances_generate

    sql.execute("DELETE FROM instances_habitinstance WHERE date > %s", [now.date()])
    sql.execute("DELETE FROM instances_generatedday")
    sql.settle("instances_habitinstance", "instances_generatedday")
    timings: list[float] = []
    statements = [0]

    def timing(execute, statement, params, many, context):
        statements[0] += 1
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            if "WITH days" in statement:
                timings.append(time.perf_counter() - started)

    with connection.execute_wrapper(timing):
        elapsed, created = sql.timed(lambda: instances_generate(now=now))
    insert = sum(timings)
    rows = sql.scalar("SELECT count(*) FROM instances_habitinstance")
    return (
        f"- instances_generate() into the table of {rows:,} rows: {created:,} rows; its INSERT "
        f"statement {insert:.2f} s ({insert / max(created, 1) * 1e6:.0f} µs a row); the whole "
        f"call {elapsed:.2f} s with {statements[0]:,} statements (the courses the fill's "
        "history finished are settled after it: an artefact of the fill)"
    )


# --- Redis commands -------------------------------------------------------------------------


class Monitor:
    """Redis's MONITOR, kept to this run's database; `between(label)` counts the commands
    sent between the two marks of `label` (ECHO), by name, those run by Lua apart."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.db = self.client.connection_pool.connection_kwargs.get("db", 0)
        self.seen: list[tuple[str, str]] = []  # (client kind, command line)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.monitor = self.client.monitor()
        self.monitor.__enter__()
        self.thread.start()
        time.sleep(0.2)

    def _run(self) -> None:
        while not self.stopping:
            try:
                entry = self.monitor.next_command()
            except (redis.RedisError, OSError, ValueError):
                return
            if int(entry.get("db", -1)) == self.db:
                self.seen.append((entry.get("client_type", ""), entry["command"]))

    def mark(self, label: str) -> None:
        self.client.echo(MARK + label)

    def between(self, label: str) -> tuple[Counter, Counter]:
        time.sleep(0.3)
        begin, end = f"ECHO {MARK}{label}:begin", f"ECHO {MARK}{label}:end"
        inside, direct, scripted = False, Counter(), Counter()
        for kind, command in self.seen:
            if command == begin:
                inside = True
            elif command == end:
                break
            elif inside:
                (scripted if kind == "lua" else direct)[command.split()[0].upper()] += 1
        return direct, scripted

    def stop(self) -> None:
        self.stopping = True
        self.client.echo(MARK + "stop")
        self.thread.join(timeout=5)
        self.monitor.__exit__()


def _counted(monitor: Monitor, label: str, times: int, action) -> str:
    """A table row: the commands one call of `action` sends, the mean of `times` calls."""
    monitor.mark(f"{label}:begin")
    for _ in range(times):
        action()
    monitor.mark(f"{label}:end")
    direct, scripted = monitor.between(label)
    shown = ", ".join(f"{name} {n / times:g}" for name, n in direct.most_common())
    lua = ", ".join(f"{name} {n / times:g}" for name, n in scripted.most_common())
    total = sum(direct.values()) / times
    return f"| {label} | {total:g} | {shown or '—'} | {lua or '—'} |"


def redis_part() -> str:
    import json

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.test import Client, override_settings
    from django.utils import timezone

    from accounts.models import User
    from bench import data, sql
    from bench.sockets import HABITS_SQL, REARM_SQL
    from core import presence
    from instances.today_cache import today_forget
    from realtime.groups import user_group

    now = timezone.now()
    data.reset()
    user = User.objects.create_user("cap@example.com", "capacity-0123", timezone="UTC")
    for _ in range(3):
        sql.execute(HABITS_SQL, {"now": now})
    instances = [pk for _, pk in data.fill_pending(now, user.pk)]
    habit_id = sql.scalar("SELECT min(id) FROM habits_habit")
    client = Client()
    body = json.dumps({"email": user.email, "password": "capacity-0123"})
    access = client.post("/api/auth/login/", body, content_type="application/json").json()
    auth = {"Authorization": f"Bearer {access['access']}"}

    def get(path: str):
        def call() -> None:
            response = client.get(path, headers=auth)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code}")

        return call

    def complete() -> None:
        pk = instances[0]
        sql.execute(REARM_SQL, [pk])
        response = client.post(f"/api/instances/{pk}/complete/", headers=auth)
        if response.status_code != 200:
            raise RuntimeError(f"complete: {response.status_code} {response.content[:200]!r}")

    def forgotten_today() -> None:
        today_forget([user.pk])
        get("/api/instances/today/")()

    monitor = Monitor(os.environ["REDIS_URL"])
    lines = [
        f"### redis: commands a request sends (mean of {REQUESTS}; in process, no worker)",
        "",
        "| request | commands | by name | run inside scripts |",
        "|---|---|---|---|",
    ]
    try:
        for path in ("/api/instances/today/", "/api/auth/me/"):
            get(path)()
            lines.append(_counted(monitor, f"GET {path} (near cache warm)", REQUESTS, get(path)))
        with override_settings(NEAR_CACHE=False):
            for path in ("/api/instances/today/", "/api/auth/me/", "/api/habits/?limit=100",
                         "/api/pauses/", f"/api/habits/{habit_id}/stats/"):  # fmt: skip
                get(path)()
                lines.append(_counted(monitor, f"GET {path} (no near cache)", REQUESTS, get(path)))
            lines.append(_counted(monitor, "today_forget() alone", REQUESTS,
                                  lambda: today_forget([user.pk])))  # fmt: skip
            lines.append(_counted(monitor, "today_forget() + GET today (a miss)", REQUESTS,
                                  forgotten_today))  # fmt: skip
            lines.append(_counted(monitor, "POST complete, owner offline", REQUESTS, complete))
            channel = f"specific.capacity!{uuid.uuid4().hex}"
            async_to_sync(get_channel_layer().group_add)(user_group(user.pk), channel)
            presence.socket_opened(user.pk, channel)
            lines.append(
                _counted(monitor, "POST complete, owner online (1 socket)", REQUESTS, complete)
            )
            presence.socket_closed(user.pk, channel)

            def heartbeat() -> None:
                presence.socket_alive(user.pk, channel)

            lines.append(_counted(monitor, "presence.socket_alive() (a heartbeat's lease)",
                                  REQUESTS, heartbeat))  # fmt: skip
    finally:
        monitor.stop()
    return "\n".join(lines)


# --- idle sockets ---------------------------------------------------------------------------


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


async def _hold(server, pairs, monitor: Monitor) -> list[str]:
    from bench.wsclient import close_all, open_many

    before = server.rss_bytes()
    opened, failed = await open_many(server.url, pairs, at_once=100)
    if failed:
        raise RuntimeError(f"{len(failed)} sockets failed: {failed[0]!r}")
    await asyncio.sleep(6)  # every socket past its first heartbeat
    pids = server.pids()
    cpu, rss = _cpu_seconds(pids), server.rss_bytes()
    monitor.mark("idle:begin")
    await asyncio.sleep(WINDOW_SECONDS)
    monitor.mark("idle:end")
    cpu = _cpu_seconds(pids) - cpu
    still = sum(1 for s in opened if s.connection.state.name == "OPEN")
    await close_all(opened)
    direct, scripted = monitor.between("idle")
    n = len(opened)
    per = ", ".join(f"{k} {v / n / WINDOW_SECONDS:.3f}" for k, v in direct.most_common())
    return [
        f"### sockets: {n:,} idle sockets on one web worker, {WINDOW_SECONDS:.0f} s "
        f"({still:,} still open)",
        "",
        f"- resident memory: {before / 2**20:.0f} MiB before, {rss / 2**20:.0f} MiB with them: "
        f"{(rss - before) / n / 1024:.0f} KiB a socket",
        f"- CPU of the server's processes: {cpu:.2f} s in {WINDOW_SECONDS:.0f} s = "
        f"{cpu / WINDOW_SECONDS * 100:.1f} % of a core; {cpu / n / WINDOW_SECONDS * 1e6:.0f} µs "
        "a socket a second",
        f"- Redis commands: {sum(direct.values()) / n / WINDOW_SECONDS:.3f} a socket a second "
        f"({per}); inside scripts "
        f"{sum(scripted.values()) / n / WINDOW_SECONDS:.3f}",
    ]


def sockets_part(count: int) -> str:
    from django.utils import timezone

    from bench import data, sql
    from bench.server.process import serving
    from bench.sockets import _fill, _tokens

    data.reset()
    _fill(count, timezone.now())
    sql.settle(*data.APP_TABLES)
    pairs = _tokens(count)
    monitor = Monitor(os.environ["REDIS_URL"])
    try:
        with serving(workers=1) as server:
            return "\n".join(asyncio.run(_hold(server, pairs, monitor)))
    finally:
        monitor.stop()


# --- the run --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    parser.add_argument("--only", choices=("rows", "redis", "sockets"), action="append")
    parser.add_argument("--instances", type=int, default=2_000_000)
    parser.add_argument("--sockets", type=int, default=1_000)
    args = parser.parse_args(argv)
    parts = args.only or ["rows", "redis", "sockets"]
    database.configure_environment()
    database.claim_redis()
    database.create_database()
    out = []
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        if "redis" in parts:
            out.append(redis_part())
        if "sockets" in parts:
            out.append(sockets_part(args.sockets))
        if "rows" in parts:
            out.append(rows_part(args.instances))
    finally:
        from django.db import connections

        connections.close_all()
        database.drop_database()
        database.release_redis()
    print("\n\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
