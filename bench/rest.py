"""Scenario: the REST API under load, authenticated, against real servers.

wrk (bounded in time, loopback only, 32 connections) drives the dashboard's reads,
`GET /api/instances/today/` (10 instances), `GET /api/habits/` (a page of 20),
`GET /api/auth/me/`, `GET /api/habits/{id}/stats/` and `GET /api/habits/public/` (each a
cached answer, each held to half the ceiling), with two baselines in the same run and the
same server: a bare Django view returning a constant JSON list (the stack's ceiling) and
`today` written the seed's way (DRF + simplejwt), both mounted only by `bench.server`.
Absolute numbers drift with the machine's other work; the ratios are what to compare. The
seven run in turn, ROUNDS times, and each ratio is the median of the rounds' own ratios (a
read over the ceiling measured seconds before it), so a slow minute weighs on both sides.

The writes, `POST /api/instances/{id}/complete/` and `POST /api/instances/{id}/skip/`, are
held to half a bare write ceiling (`POST /bench/write/{id}/`: one raw UPDATE … RETURNING in
its own transaction, no auth, no ORM), the three interleaved as the reads are; every write
request meets another pending instance (`Pool`). Then growth: `today`, `habits` and the
completion at 32, 128 and 512 connections, one 4 s run each, held at 512 to no failures and
a p99 under 250 ms, and the bare write beside them (the floor a write's latency has there).

The same bare view and `today` are first measured under the serving layouts we considered
(docs/PERFORMANCE.md, the serving layout), the last one being production's; then under
both web servers production can run (WEB_SERVER: uvicorn, the default, and Daphne), the two
up at once and their runs interleaved, and a row says which is faster.

Time: wrk's runs and pauses last as long at any scale, so a smoke run (`--scale 0.01`) takes
about what scale 1 does, less the fill: about 8.5 minutes for `--only rest`. Of that the
reads take about 190 s (seven 2 s warm-ups, then 5 rounds of 7 runs of (4 s + 1 s pause)),
the writes about 80 s (three 1 s warm-ups, then 5 rounds of 3 runs) and growth about 65 s
(12 runs of (4 s + 1 s pause), plus the wait for 512 queued writes to drain).
"""

import logging
import os
import resource
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from accounts import tokens
from accounts.models import User
from accounts.timezones import local_today
from bench import data, sql, wrk
from bench.report import Result, Row, millis
from bench.server.process import Server, server_label, serving
from bench.today import HABITS_SQL as HISTORY_HABITS_SQL
from bench.today import PASSWORD, TIMEZONE, user_with_instances
from config.serving import DEFAULT_WEB_SERVER, WEB_SERVERS, web_workers

NAME = "rest"
CONNECTIONS = 32
SECONDS = 6
WARM_SECONDS = 2
# The writes' warm-up: the server has served the reads by then; this is their first code path.
WRITE_WARM_SECONDS = 1
ROUNDS = 5
ROUND_SECONDS = 4
# Pending instances for the writes, each request another one, at scale 1 (never fewer than
# MIN_POOL: the runs last as long at any scale). Sized for a bare write ceiling of ~3,000
# req/s and writes of the API at up to half of it, over all their runs (21 s each at 32
# connections, 12 s more for the completion's growth), with margin; `_pool_row` says when a
# run found the pool spent.
POOL = 150_000
MIN_POOL = 60_000
TODAY = "/api/instances/today/"
BARE = "/bench/bare/"
DRF_TODAY = "/bench/drf/today/"
HABITS = "/api/habits/"
ME = "/api/auth/me/"
STATS = "/api/habits/{id}/stats/"
PUBLIC = "/api/habits/public/"
COMPLETE = "/api/instances/_ID_/complete/"
SKIP = "/api/instances/_ID_/skip/"
SKIP_BODY = '{"reason": "other"}'
BARE_WRITE = "/bench/write/_ID_/"
WRITES = (BARE_WRITE, COMPLETE, SKIP)
BODIES = {SKIP: SKIP_BODY}
GROWTH = (32, 128, 512)
GROWTH_SECONDS = 4
GROWTH_P99 = 0.250
# A run's requests still queued in the server when wrk stops take connections / req/s to
# drain (512 completions: seconds); the next run waits for them, up to this.
DRAIN_SECONDS = 10.0
CEILING_SHARE = 0.5
WRITE_SHARE = 0.5
DRF_FACTOR = 1.5
P99_BUDGET = 0.050

logger = logging.getLogger("bench")

# Django's own ASGI handler runs each request in a fresh thread context: measured without
# persistent connections, which would leak one per thread until PostgreSQL refuses clients.
ASGI_HANDLER = "bench.server.asgi_django:application"
NO_PERSISTENT = {"DB_CONN_MAX_AGE": "0"}
PYTHON = sys.executable
CANDIDATES: tuple[tuple[str, list[str], dict[str, str]], ...] = (
    (
        "Daphne, 1 process, Django's ASGI handler (before)",
        [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", "{port}", ASGI_HANDLER],
        NO_PERSISTENT,
    ),
    (
        "uvicorn, 3 workers, Django's ASGI handler",
        [
            *(PYTHON, "-m", "uvicorn", ASGI_HANDLER, "--port", "{port}", "--workers", "3"),
            *("--no-access-log", "--lifespan", "off"),
        ],
        NO_PERSISTENT,
    ),
)
WEB_THREADS = os.environ.get("WEB_THREADS", "2")
CHOSEN = (
    f"uvicorn, {web_workers()} workers, WSGI handler on {WEB_THREADS} threads each "
    "through config/http_bridge.py (production)"
)

POOL_HABITS_SQL = """
INSERT INTO habits_habit (user_id, action, place, time_of_day, is_pleasant, reward_text,
                          periodicity_days, repeat_limit, grace_minutes, fix_minutes,
                          start_date, is_public, is_active, created_at, updated_at)
SELECT %(user)s, 'habit ' || n, 'home', '00:00', false, 'a treat', 1, 45, 720, 1440,
       %(today)s, false, true, %(now)s, %(now)s
FROM generate_series(1, %(count)s) AS n
"""


TOUCHED_SQL = """
SELECT max(id) FROM instances_habitinstance
WHERE id >= %s AND id < %s AND status <> 'pending'
"""


@dataclass
class Pool:
    """Pending instances (consecutive ids) given out to the write runs: each run the ids past
    the last one any run wrote, so every write, the bare one included, meets a pending row."""

    ids: range
    next: int = 0  # the first id no run has been given
    repeated: int = 0  # requests that wrote an id written before (the pool ran out)

    def __post_init__(self) -> None:
        self.next = self.ids.start

    def take(self) -> range:
        return range(self.next, self.ids.stop) or self.ids

    def taken(self, given: range, load: wrk.Load, connections: int) -> None:
        if given.start < self.next:  # spent: the run went round the whole pool again
            self.repeated += load.requests
        else:
            self.repeated += max(0, load.requests - len(given))
        touched = sql.scalar(TOUCHED_SQL, [given.start, given.stop])
        # Requests still queued when wrk stopped (up to one a connection, each thread's ids
        # interleaved) may write ids past the last one written so far.
        if touched is not None:
            self.next = max(self.next, touched + 1 + 2 * connections)


@dataclass(frozen=True)
class Fixture:
    reader: str  # token of a user with 10 instances today and 25 habits, public ones too
    habit_id: int  # one of the reader's habits, with instances
    completer: str  # token of the pool's owner
    pool: Pool = field(compare=False)


def _token(user: User) -> str:
    return tokens.encode(
        user_id=user.pk, type="access", version=0, ttl=timedelta(hours=2), jti=uuid.uuid4()
    )[0]


def _fill(scale: float, now: datetime) -> Fixture:
    data.reset()
    reader = user_with_instances(10, now)
    more = {"user": reader.pk, "count": 15, "today": now.date(), "history": 0, "now": now}
    sql.execute(HISTORY_HABITS_SQL, more)
    # The public feed's pages: the reader's habits, half of them public.
    sql.execute("UPDATE habits_habit SET is_public = (id %% 2 = 0) WHERE user_id = %s", [reader.pk])
    habit_id = sql.scalar(
        "SELECT min(habit_id) FROM instances_habitinstance WHERE user_id = %s", [reader.pk]
    )
    owner = User.objects.create_user("pool@example.com", PASSWORD, timezone=TIMEZONE)
    params = {"user": owner.pk, "count": max(MIN_POOL, round(POOL * scale)), "now": now}
    sql.execute(POOL_HABITS_SQL, {**params, "today": local_today(TIMEZONE, now)})
    ids = [pk for _, pk in data.fill_pending(now, owner.pk)]
    if ids != list(range(ids[0], ids[-1] + 1)):
        raise RuntimeError("the pool's instance ids are not consecutive")
    return Fixture(_token(reader), habit_id, _token(owner), Pool(range(ids[0], ids[-1] + 1)))


def _load(server: Server, path: str, token: str, **kwargs: object) -> wrk.Load:
    url = f"{server.url}{path}"
    wrk.run(url, token=token, seconds=WARM_SECONDS, connections=CONNECTIONS, **kwargs)
    load = wrk.run(url, token=token, seconds=SECONDS, connections=CONNECTIONS, **kwargs)
    logger.info("rest: %s %.0f req/s, p99 %.1f ms", path, load.per_second, load.p99 * 1e3)
    return load


def _row(layout: str, what: str, load: wrk.Load, runs: Sequence[wrk.Load] = ()) -> Row:
    value = f"{load.per_second:,.0f} req/s, p50 {millis(load.p50)}, p99 {millis(load.p99)}"
    if runs:
        value += f" (the runs' p99: {', '.join(millis(run.p99) for run in runs)})"
    if load.bad:
        value += f", {load.bad:,} failed"
    measure = f"{layout}: {what}"
    return Row(NAME, measure, value, "no failures", not load.bad)


def _candidate_rows(fixture: Fixture) -> list[Row]:
    rows = []
    for layout, argv, env in CANDIDATES:
        with serving(argv, **env) as server:
            rows.append(_row(layout, f"GET {BARE}", _load(server, BARE, fixture.reader)))
            rows.append(_row(layout, f"GET {TODAY}", _load(server, TODAY, fixture.reader)))
    return rows


def _paired_share(loads: Sequence[wrk.Load], ceilings: Sequence[wrk.Load]) -> list[float]:
    """Each round's throughput over its ceiling's in the same round, in the rounds' order: a
    round's runs follow each other within seconds, so the machine's drift between rounds
    (this VM's neighbours, a checkpoint) weighs on both sides of each ratio alike."""
    return [
        load.per_second / ceiling.per_second for load, ceiling in zip(loads, ceilings, strict=True)
    ]


def _share_value(shares: Sequence[float]) -> tuple[float, str]:
    """The median of the rounds' ratios, and the row's text giving all of them in order."""
    median = sorted(shares)[len(shares) // 2]
    return median, f"{median:.2f} (the rounds': {', '.join(f'{s:.2f}' for s in shares)})"


def _ratio_rows(
    bare_runs: Sequence[wrk.Load], drf_runs: Sequence[wrk.Load], today_runs: Sequence[wrk.Load]
) -> list[Row]:
    share, share_text = _share_value(_paired_share(today_runs, bare_runs))
    factor, factor_text = _share_value(_paired_share(today_runs, drf_runs))
    p99 = _median(list(today_runs)).p99
    return [
        Row(
            NAME,
            "today / bare-view ceiling (req/s, the median of the rounds' ratios)",
            share_text,
            f"≥ {CEILING_SHARE:.2f}",
            share >= CEILING_SHARE,
        ),
        Row(
            NAME,
            "today / DRF-style today (req/s, the median of the rounds' ratios)",
            factor_text.replace(" (", "x (", 1),
            f"≥ {DRF_FACTOR}x",
            factor >= DRF_FACTOR,
        ),
        Row(
            NAME,
            f"today p99 at {CONNECTIONS} connections",
            millis(p99),
            f"< {millis(P99_BUDGET)}",
            p99 < P99_BUDGET,
        ),
    ]


def _median(loads: list[wrk.Load]) -> wrk.Load:
    """Each figure the median of the runs' (throughput and every percentile alike), with the
    failures of every run. One 4 s run's p99 is its slowest 1 %, some 50 requests: a single
    stall of the machine (this VM's neighbours, a checkpoint) lifts it, and the median of
    the runs is what survives that, as for the throughput."""
    middle = len(loads) // 2
    return wrk.Load(
        requests=sum(load.requests for load in loads),
        per_second=sorted(load.per_second for load in loads)[middle],
        percentiles={
            name: sorted(load.percentiles[name] for load in loads)[middle]
            for name in loads[0].percentiles
        },
        bad=sum(load.bad for load in loads),
    )


def _compared(server: Server, token: str, paths: Sequence[str]) -> list[list[wrk.Load]]:
    """`paths` (the bare view first), interleaved ROUNDS times: the machine's other work then
    weighs on them alike, and the ratios hold better than the numbers."""
    for path in paths:
        wrk.run(f"{server.url}{path}", token=token, seconds=WARM_SECONDS, connections=CONNECTIONS)
    runs: dict[str, list[wrk.Load]] = {path: [] for path in paths}
    for _ in range(ROUNDS):
        for path in paths:
            url = f"{server.url}{path}"
            runs[path].append(
                wrk.run(url, token=token, seconds=ROUND_SECONDS, connections=CONNECTIONS)
            )
    for path, loads in runs.items():
        logger.info("rest: GET %s %.0f req/s", path, _median(loads).per_second)
    return [runs[path] for path in paths]


def _budget_rows(what: str, runs: Sequence[wrk.Load], bare_runs: Sequence[wrk.Load]) -> list[Row]:
    """A dashboard read held to the same budget as `today`: half the ceiling, p99 < 50 ms."""
    share, share_text = _share_value(_paired_share(runs, bare_runs))
    p99 = _median(list(runs)).p99
    return [
        Row(
            NAME,
            f"{what} / bare-view ceiling (req/s, the median of the rounds' ratios)",
            share_text,
            f"≥ {CEILING_SHARE:.2f}",
            share >= CEILING_SHARE,
        ),
        Row(
            NAME,
            f"{what} p99 at {CONNECTIONS} connections",
            millis(p99),
            f"< {millis(P99_BUDGET)}",
            p99 < P99_BUDGET,
        ),
    ]


def _read_rows(server: Server, fixture: Fixture) -> list[Row]:
    stats = STATS.replace("{id}", str(fixture.habit_id))
    paths = (BARE, DRF_TODAY, TODAY, HABITS, ME, stats, PUBLIC)
    runs = dict(zip(paths, _compared(server, fixture.reader, paths), strict=True))
    medians = {path: _median(loads) for path, loads in runs.items()}
    rounds = f"median of {ROUNDS} interleaved {ROUND_SECONDS} s runs"
    reads = (
        (BARE, f"GET {BARE} (the ceiling; {rounds})"),
        (DRF_TODAY, f"GET {DRF_TODAY} (the seed's way, DRF + simplejwt; {rounds})"),
        (TODAY, f"GET {TODAY} (10 instances, cached after the first; {rounds})"),
        (HABITS, f"GET {HABITS} (a page of 20, cached after the first; {rounds})"),
        (ME, f"GET {ME} (cached after the first; {rounds})"),
        (stats, f"GET {STATS} (cached after the first; {rounds})"),
        (PUBLIC, f"GET {PUBLIC} (a page of 20, one for everyone, cached; {rounds})"),
    )
    bare_runs = runs[BARE]
    return [
        *(_row(CHOSEN, what, medians[path], runs[path]) for path, what in reads),
        *_ratio_rows(bare_runs, runs[DRF_TODAY], runs[TODAY]),
        *_budget_rows("habits", runs[HABITS], bare_runs),
        *_budget_rows("me", runs[ME], bare_runs),
        *_budget_rows("stats", runs[stats], bare_runs),
        *_budget_rows("public", runs[PUBLIC], bare_runs),
    ]


def _drain(load: wrk.Load, connections: int) -> None:
    """Wait out what the server still had queued when wrk stopped, past wrk's own pause."""
    queued = connections / max(load.per_second, 1.0)
    time.sleep(min(DRAIN_SECONDS, max(0.0, queued - wrk.SETTLE_SECONDS)))


def _write(
    server: Server, path: str, fixture: Fixture, *, seconds: float, connections: int
) -> wrk.Load:
    """One POST run on `path`, each request a pending instance of the pool no run had yet."""
    given = fixture.pool.take()
    load = wrk.run(
        f"{server.url}{path}",
        token=fixture.completer,
        seconds=seconds,
        connections=connections,
        method="POST",
        ids=given,
        body=BODIES.get(path, ""),
    )
    _drain(load, connections)
    fixture.pool.taken(given, load, connections)
    return load


def _writes_compared(server: Server, fixture: Fixture) -> list[list[wrk.Load]]:
    """The bare write, the completion and the skip, interleaved ROUNDS times (as `_compared`
    for the reads), each run on fresh pending instances."""
    for path in WRITES:
        _write(server, path, fixture, seconds=WRITE_WARM_SECONDS, connections=CONNECTIONS)
    runs: dict[str, list[wrk.Load]] = {path: [] for path in WRITES}
    for _ in range(ROUNDS):
        for path in WRITES:
            load = _write(server, path, fixture, seconds=ROUND_SECONDS, connections=CONNECTIONS)
            runs[path].append(load)
    for path, loads in runs.items():
        logger.info("rest: POST %s %.0f req/s", path, _median(loads).per_second)
    return [runs[path] for path in WRITES]


def _share_row(what: str, runs: Sequence[wrk.Load], ceiling_runs: Sequence[wrk.Load]) -> Row:
    share, share_text = _share_value(_paired_share(runs, ceiling_runs))
    measure = f"{what} / bare write ceiling (req/s, the median of the rounds' ratios)"
    return Row(NAME, measure, share_text, f"≥ {WRITE_SHARE:.2f}", share >= WRITE_SHARE)


def _write_rows(server: Server, fixture: Fixture) -> list[Row]:
    ceiling_runs, complete_runs, skip_runs = _writes_compared(server, fixture)
    ceiling, complete, skip = (_median(runs) for runs in (ceiling_runs, complete_runs, skip_runs))
    rounds = f"median of {ROUNDS} interleaved {ROUND_SECONDS} s runs, each request another instance"
    ceiling_what = (
        f"POST {_shown(BARE_WRITE)} (the write ceiling: one raw UPDATE … RETURNING in its own "
        f"transaction, no auth; {rounds})"
    )
    return [
        _row(CHOSEN, ceiling_what, ceiling, ceiling_runs),
        _row(CHOSEN, f"POST {_shown(COMPLETE)} ({rounds})", complete, complete_runs),
        _row(CHOSEN, f"POST {_shown(SKIP)} (body {SKIP_BODY}; {rounds})", skip, skip_runs),
        _share_row("complete", complete_runs, ceiling_runs),
        _share_row("skip", skip_runs, ceiling_runs),
    ]


def _shown(path: str) -> str:
    return path.replace("_ID_", "{id}")


def _growth_run(server: Server, path: str, fixture: Fixture, connections: int) -> wrk.Load:
    if path in (COMPLETE, BARE_WRITE):
        return _write(server, path, fixture, seconds=GROWTH_SECONDS, connections=connections)
    url = f"{server.url}{path}"
    load = wrk.run(url, token=fixture.reader, seconds=GROWTH_SECONDS, connections=connections)
    _drain(load, connections)
    return load


def _growth_rows(server: Server, fixture: Fixture) -> list[Row]:
    """Each path at GROWTH connections, one run each (the server already warm from the runs
    before): how the latency grows with the clients, and the budget at the most. The bare
    write runs beside them, unbudgeted: with every connection waiting for its answer, a
    request's time at 512 is at least 512 / the requests a second the machine can answer
    (Little's law), and the bare write's row shows that floor for a write."""
    rows, budgets = [], []
    label = f"growth ({GROWTH_SECONDS} s runs, production layout)"
    for path in (TODAY, HABITS, COMPLETE, BARE_WRITE):
        what = f"{'GET' if path in (TODAY, HABITS) else 'POST'} {_shown(path)}"
        for connections in GROWTH:
            load = _growth_run(server, path, fixture, connections)
            logger.info("rest: %s at %d: p99 %.1f ms", what, connections, load.p99 * 1e3)
            rows.append(_row(label, f"{what} at {connections} connections", load))
        if path == BARE_WRITE:
            continue
        ok = not load.bad and load.p99 < GROWTH_P99
        value = f"p99 {millis(load.p99)}, {load.bad:,} failed"
        budget = f"no failures, p99 < {millis(GROWTH_P99)}"
        measure = f"growth budget: {what} at {GROWTH[-1]} connections"
        budgets.append(Row(NAME, measure, value, budget, ok))
    return rows + budgets


def _pool_row(pool: Pool) -> Row:
    given = min(pool.next, pool.ids.stop) - pool.ids.start
    value = (
        f"{given:,} of {len(pool.ids):,} pending instances given out; "
        f"{pool.repeated:,} requests on an instance written before"
    )
    measure = "the writes' pool (each request another pending instance)"
    return Row(NAME, measure, value, "none written twice", pool.repeated == 0)


def _production_rows(fixture: Fixture) -> list[Row]:
    with serving() as server:
        reads = _read_rows(server, fixture)
        writes = _write_rows(server, fixture)
        growth = _growth_rows(server, fixture)
    return [*reads, *writes, *growth, _pool_row(fixture.pool)]


def _interleaved(servers: dict[str, Server], path: str, token: str) -> dict[str, list[wrk.Load]]:
    """`path` on each server in turn, ROUNDS times: the machine's drift weighs on both."""
    for server in servers.values():
        wrk.run(f"{server.url}{path}", token=token, seconds=WARM_SECONDS, connections=CONNECTIONS)
    runs: dict[str, list[wrk.Load]] = {name: [] for name in servers}
    for _ in range(ROUNDS):
        for name, server in servers.items():
            url = f"{server.url}{path}"
            runs[name].append(
                wrk.run(url, token=token, seconds=ROUND_SECONDS, connections=CONNECTIONS)
            )
    for name, loads in runs.items():
        logger.info("rest: %s %s %.0f req/s", name, path, _median(loads).per_second)
    return runs


def _server_rows(fixture: Fixture) -> list[Row]:
    """The bare view and `today` under uvicorn and under Daphne, the same number of
    processes each, both servers up (the one waiting costs next to nothing)."""
    with serving(server="uvicorn") as uvicorn, serving(server="daphne") as daphne:
        servers = {"uvicorn": uvicorn, "daphne": daphne}
        runs = {path: _interleaved(servers, path, fixture.reader) for path in (BARE, TODAY)}
    rounds = f"median of {ROUNDS} {ROUND_SECONDS} s runs interleaved with the other server's"
    rows, medians = [], {}
    for path, by_server in runs.items():
        for name, loads in by_server.items():
            medians[name, path] = median = _median(loads)
            rows.append(_row(server_label(name), f"GET {path} ({rounds})", median, loads))
    return [*rows, _faster_row(medians)]


def _faster_row(medians: dict[tuple[str, str], wrk.Load]) -> Row:
    """Which server serves `today` at more requests a second, and by how much."""
    today = {name: medians[name, TODAY] for name in WEB_SERVERS}
    bare = {name: medians[name, BARE] for name in WEB_SERVERS}
    faster = max(WEB_SERVERS, key=lambda name: today[name].per_second)
    [slower] = [name for name in WEB_SERVERS if name != faster]
    value = (
        f"{faster}: GET {TODAY} {today[faster].per_second / today[slower].per_second:.2f}x "
        f"{slower}'s req/s (p99 {millis(today[faster].p99)} against {millis(today[slower].p99)}); "
        f"GET {BARE} {bare[faster].per_second / bare[slower].per_second:.2f}x"
    )
    measure = "the faster web server (GET today, req/s; WEB_SERVER's default should be it)"
    return Row(NAME, measure, value, DEFAULT_WEB_SERVER, faster == DEFAULT_WEB_SERVER)


def _raise_file_limit() -> None:
    """512 connections are as many sockets in wrk and in the server: the soft limit of open
    files up to the hard one, for this process and the servers and wrk it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit still caps files at the kernel's nr_open: ask for plenty.
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def run(scale: float) -> Result:
    wrk.require()
    _raise_file_limit()
    fixture = _fill(scale, timezone.now())
    sql.settle(*data.APP_TABLES)  # as in sockets: the earlier scenarios' writes not timed here
    return Result(_candidate_rows(fixture) + _production_rows(fixture) + _server_rows(fixture))
