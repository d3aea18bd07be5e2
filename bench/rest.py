"""Scenario: the REST API under load, 32 connections, authenticated, against real servers.

wrk (bounded in time, loopback only) drives the dashboard's reads, `GET /api/instances/today/`
(10 instances), `GET /api/habits/` (a page of 20), `GET /api/auth/me/`,
`GET /api/habits/{id}/stats/` and `GET /api/habits/public/` (each a cached answer, each held
to half the ceiling), and `POST /api/instances/{id}/complete/` (each request another
instance), with two baselines in the same run and the same server: a bare Django
view returning a constant JSON list (the stack's ceiling) and `today` written the seed's way
(DRF + simplejwt), both mounted only by `bench.server`. Absolute numbers drift with the
machine's other work; the ratios are what to compare.

The same bare view and `today` are first measured under the serving layouts we considered
(docs/PERFORMANCE.md, the serving layout), the last one being production's; then under
both web servers production can run (WEB_SERVER: uvicorn, the default, and Daphne), the two
up at once and their runs interleaved, and a row says which is faster.
"""

import logging
import os
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
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
SECONDS = 10
WARM_SECONDS = 2
ROUNDS = 5
ROUND_SECONDS = 4
POOL = 30_000
TODAY = "/api/instances/today/"
BARE = "/bench/bare/"
DRF_TODAY = "/bench/drf/today/"
HABITS = "/api/habits/"
ME = "/api/auth/me/"
STATS = "/api/habits/{id}/stats/"
PUBLIC = "/api/habits/public/"
COMPLETE = "/api/instances/_ID_/complete/"
CEILING_SHARE = 0.5
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


@dataclass(frozen=True)
class Fixture:
    reader: str  # token of a user with 10 instances today and 25 habits, public ones too
    habit_id: int  # one of the reader's habits, with instances
    completer: str  # token of the pool's owner
    pool: range  # instance ids, consecutive


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
    params = {"user": owner.pk, "count": max(100, round(POOL * scale)), "now": now}
    sql.execute(POOL_HABITS_SQL, {**params, "today": local_today(TIMEZONE, now)})
    ids = [pk for _, pk in data.fill_pending(now, owner.pk)]
    if ids != list(range(ids[0], ids[-1] + 1)):
        raise RuntimeError("the pool's instance ids are not consecutive")
    return Fixture(_token(reader), habit_id, _token(owner), range(ids[0], ids[-1] + 1))


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


def _completed(pool: range) -> int:
    return sql.scalar(
        "SELECT count(*) FROM instances_habitinstance WHERE id = ANY(%s) AND status = 'completed'",
        [list(pool)],
    )


def _ratio_rows(bare: wrk.Load, drf: wrk.Load, today: wrk.Load) -> list[Row]:
    share, factor = today.per_second / bare.per_second, today.per_second / drf.per_second
    return [
        Row(
            NAME,
            "today / bare-view ceiling (req/s)",
            f"{share:.2f}",
            f"≥ {CEILING_SHARE:.2f}",
            share >= CEILING_SHARE,
        ),
        Row(
            NAME,
            "today / DRF-style today (req/s)",
            f"{factor:.2f}x",
            f"≥ {DRF_FACTOR}x",
            factor >= DRF_FACTOR,
        ),
        Row(
            NAME,
            f"today p99 at {CONNECTIONS} connections",
            millis(today.p99),
            f"< {millis(P99_BUDGET)}",
            today.p99 < P99_BUDGET,
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


def _compared(server: Server, token: str) -> list[list[wrk.Load]]:
    """Bare view, DRF-style today and today, interleaved ROUNDS times: the machine's other
    work then weighs on the three alike, and the ratios hold better than the numbers."""
    paths = (BARE, DRF_TODAY, TODAY)
    for path in paths:
        wrk.run(f"{server.url}{path}", token=token, seconds=WARM_SECONDS, connections=CONNECTIONS)
    runs: dict[str, list[wrk.Load]] = {path: [] for path in paths}
    for _ in range(ROUNDS):
        for path in paths:
            url = f"{server.url}{path}"
            runs[path].append(
                wrk.run(url, token=token, seconds=ROUND_SECONDS, connections=CONNECTIONS)
            )
    return [runs[path] for path in paths]


def _budget_rows(what: str, load: wrk.Load, bare: wrk.Load) -> list[Row]:
    """A dashboard read held to the same budget as `today`: half the ceiling, p99 < 50 ms."""
    share = load.per_second / bare.per_second
    return [
        Row(
            NAME,
            f"{what} / bare-view ceiling (req/s)",
            f"{share:.2f}",
            f"≥ {CEILING_SHARE:.2f}",
            share >= CEILING_SHARE,
        ),
        Row(
            NAME,
            f"{what} p99 at {CONNECTIONS} connections",
            millis(load.p99),
            f"< {millis(P99_BUDGET)}",
            load.p99 < P99_BUDGET,
        ),
    ]


def _production_rows(fixture: Fixture) -> list[Row]:
    stats = STATS.replace("{id}", str(fixture.habit_id))
    with serving() as server:
        bare_runs, drf_runs, today_runs = _compared(server, fixture.reader)
        habits = _load(server, HABITS, fixture.reader)
        me = _load(server, ME, fixture.reader)
        habit_stats = _load(server, stats, fixture.reader)
        public = _load(server, PUBLIC, fixture.reader)
        complete = _load(server, COMPLETE, fixture.completer, method="POST", ids=fixture.pool)
    done = _completed(fixture.pool)
    bare, drf, today = _median(bare_runs), _median(drf_runs), _median(today_runs)
    rounds = f"median of {ROUNDS} interleaved {ROUND_SECONDS} s runs"
    return [
        _row(CHOSEN, f"GET {BARE} (the ceiling; {rounds})", bare, bare_runs),
        _row(CHOSEN, f"GET {DRF_TODAY} (the seed's way, DRF + simplejwt; {rounds})", drf, drf_runs),
        _row(
            CHOSEN,
            f"GET {TODAY} (10 instances, cached after the first; {rounds})",
            today,
            today_runs,
        ),
        _row(CHOSEN, f"GET {HABITS} (a page of 20, cached after the first)", habits),
        _row(CHOSEN, f"GET {ME} (cached after the first)", me),
        _row(CHOSEN, f"GET {STATS} (cached after the first)", habit_stats),
        _row(CHOSEN, f"GET {PUBLIC} (a page of 20, one for everyone, cached)", public),
        _row(CHOSEN, f"POST {COMPLETE.replace('_ID_', '{id}')} ({done:,} completed)", complete),
        *_ratio_rows(bare, drf, today),
        *_budget_rows("habits", habits, bare),
        *_budget_rows("me", me, bare),
        *_budget_rows("stats", habit_stats, bare),
        *_budget_rows("public", public, bare),
    ]


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


def run(scale: float) -> Result:
    wrk.require()
    fixture = _fill(scale, timezone.now())
    sql.settle(*data.APP_TABLES)  # as in sockets: the earlier scenarios' writes not timed here
    return Result(_candidate_rows(fixture) + _production_rows(fixture) + _server_rows(fixture))
