"""Scenario: the live socket against a real web server process (config/serving.py).

- push latency: from `POST /api/instances/{id}/complete/` to the `instance.updated` frame on
  the owner's socket, with 1, 100 and 1,000 sockets open (each of another user), p50 / p99;
  then at 1,000 under the other web server (WEB_SERVER: uvicorn, the default, or Daphne),
  and which of the two was faster;
- 10,000 sockets open at once across the web workers (production's layout: WEB_WORKERS
  processes, by default one per CPU), each of another user: all of them connected, the
  resident memory of the server's whole process tree, and the push latency with all of them
  open; the bench's own CPU time over that phase beside its wall time, since the client
  shares the machine's CPUs with the server;
- a burst of 5,000 connects at once: every one gets `hello` and `today.snapshot` (the redis-py
  pool of 100 once failed a quarter of 1,000 with HTTP 500);
- 5,000 idle sockets held by one web process (one worker): its resident memory.

The bench holds every client socket itself, one file descriptor each, in one asyncio loop
(bench/wsclient.py): it raises its own open-file limit to the hard limit first (as the
runner does for the server, config/serving.py), which the server it starts inherits.

Each user has one habit with one pending instance today; a sample re-arms the instance
(back to pending) before completing it, outside the timed part.
"""

import asyncio
import http.client
import logging
import math
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from accounts import tokens
from bench import data, sql
from bench.report import Result, Row, millis
from bench.server.process import Server, server_label, serving
from bench.wsclient import Socket, close_all, open_many
from config.serving import DEFAULT_WEB_SERVER, WEB_SERVERS, raise_file_limit, web_server

NAME = "sockets"
LEVELS = (1, 100, 1_000)
SAMPLES = 200
MANY = 10_000
BURST = 5_000
IDLE = 5_000
# Connects in flight while the many are opened (as the idle ones): a browser's reconnects
# after a deploy come spread over seconds, and the burst row measures them all at once.
MANY_AT_ONCE = 200
P99_BUDGET = 0.050
RSS_BUDGET = 2**30
FRAME_SECONDS = 10.0
SETTLE_SECONDS = 3.0

logger = logging.getLogger("bench")

HABITS_SQL = """
INSERT INTO habits_habit (user_id, action, place, time_of_day, is_pleasant, reward_text,
                          periodicity_days, repeat_limit, grace_minutes, fix_minutes,
                          start_date, is_public, is_active, created_at, updated_at)
SELECT u.id, 'stretch', 'home', '00:00', false, 'a treat', 1, 45, 720, 1440,
       (%(now)s::timestamptz AT TIME ZONE u.timezone)::date, false, true, %(now)s, %(now)s
FROM accounts_user u
"""


REARM_SQL = """
UPDATE instances_habitinstance SET status = 'pending', completed_at = NULL, source = ''
WHERE id = %s
"""


@dataclass(frozen=True)
class Sizes:
    levels: tuple[int, ...]
    many: int
    burst: int
    idle: int

    @classmethod
    def at(cls, scale: float) -> "Sizes":
        levels = tuple(sorted({max(1, round(level * scale)) for level in LEVELS}))
        many, burst, idle = (max(1, round(n * scale)) for n in (MANY, BURST, IDLE))
        return cls(levels, many, burst, idle)

    @property
    def users(self) -> int:
        return max(self.many, self.burst, self.idle, self.levels[-1])


def _fill(users: int, now: datetime) -> dict[int, int]:
    """`users` users with one pending instance each: {user_id: instance_id}."""
    data.fill_users(users, now)
    sql.execute(HABITS_SQL, {"now": now})
    return dict(data.fill_pending(now))


def _tokens(users: int) -> list[tuple[int, str]]:
    def token(user_id: int) -> str:
        return tokens.encode(
            user_id=user_id, type="access", version=0, ttl=timedelta(hours=2), jti=uuid.uuid4()
        )[0]

    return [(user_id, token(user_id)) for user_id in range(1, users + 1)]


def _p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]


class Completer:
    """Re-arms and completes instances over REST from one thread of its own (Django's ORM
    refuses to run inside the event loop); returns when each POST was sent."""

    def __init__(self, server: Server) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.http = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def _complete(self, instance_id: int, token: str) -> float:
        sql.execute(REARM_SQL, [instance_id])
        try:
            return self._post(instance_id, token)
        except (http.client.RemoteDisconnected, ConnectionError):
            self.http.close()  # the server ended an idle keep-alive connection: a new one
            return self._post(instance_id, token)

    def _post(self, instance_id: int, token: str) -> float:
        sent = time.perf_counter()
        self.http.request(
            "POST",
            f"/api/instances/{instance_id}/complete/",
            headers={"Authorization": f"Bearer {token}", "Content-Length": "0"},
        )
        response = self.http.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"complete answered {response.status}: {body[:200]!r}")
        return sent

    async def complete(self, instance_id: int, token: str) -> float:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self._complete, instance_id, token)

    def close(self) -> None:
        self.http.close()
        self.pool.submit(lambda: connection.close()).result()  # that thread's connection
        self.pool.shutdown()


async def _frame_for(socket: Socket, instance_id: int) -> float:
    """Arrival time of the `instance.updated` frame of `instance_id` (others are skipped)."""
    while True:
        arrived, frame = await asyncio.wait_for(socket.frames.get(), FRAME_SECONDS)
        if frame["type"] == "instance.updated" and frame["data"]["id"] == instance_id:
            return arrived


async def _latencies(
    completer: Completer, sockets: Sequence[Socket], tokens_of: dict[int, str], instances
) -> list[float]:
    latencies = []
    for n in range(SAMPLES):
        # Spread over all the sockets open (so over every worker), each once when they are
        # as many as the samples.
        index = n * len(sockets) // SAMPLES if len(sockets) >= SAMPLES else n % len(sockets)
        socket = sockets[index]
        instance_id = instances[socket.user_id]
        sent = await completer.complete(instance_id, tokens_of[socket.user_id])
        latencies.append(await _frame_for(socket, instance_id) - sent)
    return latencies


async def _latencies_by_level(
    server: Server, pairs, instances: dict[int, int], levels
) -> list[tuple[int, list[float]]]:
    """(sockets open, push latencies) at each level, the sockets of one level kept open for
    the next."""
    tokens_of, sockets, measured = dict(pairs), [], []
    completer = Completer(server)
    try:
        for level in levels:
            opened, failed = await open_many(server.url, pairs[len(sockets) : level], at_once=100)
            if failed:
                raise RuntimeError(f"{len(failed)} sockets failed to open: {failed[0]!r}")
            for socket in opened:
                socket.start_reading()
            sockets += opened
            latencies = await _latencies(completer, sockets, tokens_of, instances)
            measured.append((level, latencies))
            logger.info("sockets: %s open, p50 %s", level, millis(statistics.median(latencies)))
    finally:
        completer.close()
        await close_all(sockets)
    return measured


def _latency_row(server: str, level: int, latencies: list[float], *, budget: bool) -> Row:
    p50, p99 = statistics.median(latencies), _p99(latencies)
    measure = (
        f"{server_label(server)}: push latency, REST completion → instance.updated, "
        f"{level:,} socket(s) open"
    )
    value = f"p50 {millis(p50)}, p99 {millis(p99)} ({len(latencies)} completions)"
    if not budget:
        return Row(NAME, measure, value)
    return Row(NAME, measure, value, f"p99 < {millis(P99_BUDGET)}", p99 < P99_BUDGET)


# How much slower (p50) the default server may push than the other and still be the choice.
PARITY = 0.10


def _faster_row(level: int, latencies: dict[str, list[float]]) -> Row:
    """Which server pushes sooner (the median: the p99 of 200 completions is two of them)."""
    p50 = {name: statistics.median(values) for name, values in latencies.items()}
    p99 = {name: _p99(values) for name, values in latencies.items()}
    faster = min(WEB_SERVERS, key=p50.__getitem__)
    [slower] = [name for name in WEB_SERVERS if name != faster]
    value = (
        f"{faster}: p50 {millis(p50[faster])} against {millis(p50[slower])}, "
        f"p99 {millis(p99[faster])} against {millis(p99[slower])}"
    )
    measure = (
        f"the faster web server (push latency p50, {level:,} sockets open; WEB_SERVER's "
        "default should be it, or within the runs' noise of it)"
    )
    [other] = [name for name in WEB_SERVERS if name != DEFAULT_WEB_SERVER]
    # Both push in about 5 ms since the heartbeat is one a process: 0.5 ms apart is which
    # one ran while the machine was quieter (the servers run one after the other).
    ok = p50[DEFAULT_WEB_SERVER] <= p50[other] * (1 + PARITY)
    budget = f"{DEFAULT_WEB_SERVER}, or within {PARITY:.0%} of {other}"
    return Row(NAME, measure, value, budget, ok)


def _server_rows(pairs, instances: dict[int, int], levels: tuple[int, ...]) -> list[Row]:
    """Every level under WEB_SERVER's server (production's, with the budget), the top level
    under the other too, each server on its own, then which was faster there."""
    chosen = web_server()
    [other] = [name for name in WEB_SERVERS if name != chosen]
    with serving(server=chosen) as server:
        measured = asyncio.run(_latencies_by_level(server, pairs, instances, levels))
    with serving(server=other) as server:
        [(top, theirs)] = asyncio.run(_latencies_by_level(server, pairs, instances, levels[-1:]))
    rows = [
        _latency_row(chosen, level, latencies, budget=level == top) for level, latencies in measured
    ]
    rows.append(_latency_row(other, top, theirs, budget=False))
    rows.append(_faster_row(top, {chosen: measured[-1][1], other: theirs}))
    return rows


async def _burst_row(server: Server, pairs) -> Row:
    started = time.perf_counter()
    opened, failed = await open_many(server.url, pairs, at_once=len(pairs))
    elapsed = time.perf_counter() - started
    await close_all(opened)
    kinds = sorted({type(error).__name__ for error in failed})
    value = f"{len(opened):,} of {len(pairs):,} in {elapsed:.1f} s"
    if failed:
        value += f" (failed: {', '.join(kinds)}: {str(failed[0])[:80]})"
    measure = f"a burst of {len(pairs):,} connects at once: hello + snapshot received"
    return Row(NAME, measure, value, "all", not failed)


def _lost(failed: list[BaseException], closed: Counter) -> str:
    """Why sockets are missing: the errors of those never opened, the close codes of the rest."""
    parts = [f"{n:,} not opened: {kind}" for kind, n in Counter(map(_kind, failed)).items()]
    parts += [f"{n:,} closed with {code}" for code, n in closed.items()]
    return f" ({'; '.join(parts)})" if parts else ""


def _kind(error: BaseException) -> str:
    return f"{type(error).__name__} {str(error)[:60]}".strip()


async def _idle_rows(server: Server, pairs) -> list[Row]:
    before = server.rss_bytes()
    opened, failed = await open_many(server.url, pairs, at_once=200)
    await asyncio.sleep(SETTLE_SECONDS)
    rss = server.rss_bytes()
    still_open = sum(1 for socket in opened if socket.connection.state.name == "OPEN")
    closed = Counter(
        socket.connection.close_code for socket in opened if socket.connection.state.name != "OPEN"
    )
    await close_all(opened)
    per_socket = (rss - before) / max(1, len(opened)) / 1024
    label = f"{len(pairs):,} idle sockets held by one web process"
    return [
        Row(
            NAME,
            f"{label}: open after {SETTLE_SECONDS:.0f} s",
            f"{still_open:,}" + _lost(failed, closed),
            "all",
            still_open == len(pairs) and not failed,
        ),
        Row(
            NAME,
            f"{label}: RSS of the process",
            f"{rss / 2**20:,.0f} MiB "
            f"({before / 2**20:.0f} MiB idle, {per_socket:.0f} KiB a socket)",
            f"< {RSS_BUDGET / 2**20:,.0f} MiB",
            rss < RSS_BUDGET,
        ),
    ]


class _Clock:
    """This process's CPU time and the wall time since the last lap."""

    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def lap(self) -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        spent = (cpu - self.cpu, wall - self.wall)
        self.cpu, self.wall = cpu, wall
        return spent


@dataclass(frozen=True)
class Many:
    """What the many-sockets phase saw."""

    asked: int
    still_open: int
    lost: str
    rss: int
    latencies: list[float]
    # The bench's own CPU seconds against wall seconds: opening the sockets, then the timed
    # completions with all of them open.
    opening: tuple[float, float]
    completing: tuple[float, float]


async def _hold_many(server: Server, pairs, instances: dict[int, int]) -> Many:
    """Open a socket per pair, hold them all, then time completions with all of them open."""
    clock = _Clock()
    opened, failed = await open_many(server.url, pairs, at_once=MANY_AT_ONCE)
    for socket in opened:
        socket.start_reading()
    opening = clock.lap()
    completer = Completer(server)
    try:
        await asyncio.sleep(SETTLE_SECONDS)
        rss = server.rss_bytes()
        open_now = [s for s in opened if s.connection.state.name == "OPEN"]
        closed = Counter(
            s.connection.close_code for s in opened if s.connection.state.name != "OPEN"
        )
        if not open_now:
            raise RuntimeError(f"no socket stayed open{_lost(failed, closed)}")
        clock.lap()  # the settling, not the client's work
        latencies = await _latencies(completer, open_now, dict(pairs), instances)
        completing = clock.lap()
    finally:
        completer.close()
        await close_all(opened)
    return Many(
        len(pairs),
        len(open_now),
        _lost(failed, closed),
        rss,
        latencies,
        opening,
        completing,
    )


def _many_rows(chosen: str, many: Many) -> list[Row]:
    label = f"{many.asked:,} sockets open across {server_label(chosen)}"
    p50, p99 = statistics.median(many.latencies), _p99(many.latencies)
    # One process of the bench holds every client socket on 2 shared CPUs: its share of the
    # phase's wall time says whether the client, not the server, set the pace.
    client = (
        "bench client CPU: opening {:.1f} s of {:.1f} s, completions {:.1f} s of {:.1f} s".format(
            *many.opening, *many.completing
        )
    )
    return [
        Row(
            NAME,
            f"{label}: connected and still open after {SETTLE_SECONDS:.0f} s",
            f"{many.still_open:,}{many.lost}",
            "all",
            many.still_open == many.asked,
        ),
        Row(
            NAME,
            f"{label}: RSS of the web processes (the server's process tree)",
            f"{many.rss / 2**20:,.0f} MiB",
            f"< {RSS_BUDGET / 2**20:,.0f} MiB",
            many.rss < RSS_BUDGET,
        ),
        Row(
            NAME,
            f"{label}: push latency, REST completion → instance.updated",
            f"p50 {millis(p50)}, p99 {millis(p99)} ({len(many.latencies)} completions; {client})",
            f"p99 < {millis(P99_BUDGET)}",
            p99 < P99_BUDGET,
        ),
    ]


def run(scale: float) -> Result:
    raise_file_limit()  # a descriptor per client socket; the servers started here inherit it
    sizes = Sizes.at(scale)
    users = sizes.users
    data.reset()
    instances = _fill(users, timezone.now())
    # Every completion waits for its COMMIT's WAL flush, so the p99 follows the disk: the
    # writes of the scenarios before (millions of rows) are flushed first, not timed here.
    sql.settle(*data.APP_TABLES)
    pairs = _tokens(users)
    rows = _server_rows(pairs, instances, sizes.levels)
    with serving() as server:
        many = asyncio.run(_hold_many(server, pairs[: sizes.many], instances))
    rows += _many_rows(web_server(), many)
    with serving() as server:
        rows.append(asyncio.run(_burst_row(server, pairs[: sizes.burst])))
    with serving(workers=1) as server:
        rows += asyncio.run(_idle_rows(server, pairs[: sizes.idle]))
    return Result(rows)
