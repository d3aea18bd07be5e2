"""Scenario: the cost of webhooks on the completion path.

`POST /api/instances/{id}/complete/` under wrk (32 connections, production's server), by two
owners alike but for their hooks: one has none, the other 3 enabled hooks subscribed to
`instance.updated`. Each completion of the second writes 3 delivery rows in its transaction
and queues `webhooks.send` after the commit (no worker runs here, so nothing is sent: the
cost measured is the change's own). The two are interleaved ROUNDS times and each figure is
the median of its runs (bench/rest.py explains why); the budget is the p99 with hooks
within 10 % of the p99 without.
"""

import logging
from datetime import datetime

from django.utils import timezone

from accounts.models import User
from accounts.timezones import local_today
from bench import data, rest, sql, wrk
from bench.report import Result, Row, millis
from bench.server.process import Server, serving
from bench.today import PASSWORD, TIMEZONE
from webhooks.models import Webhook
from webhooks.services import secret_new

NAME = "webhooks"
HOOKS = 3
# A run's p99 is its slowest 1 %: at some 250 completions a second, a 4 s run's ten slowest
# requests, which one stall of the machine moves by half (the runs' p99 spread 143-260 ms in
# one configuration, 2026-12-04 20:32). Nine runs of 6 s give each p99 some fifteen requests
# and the median nine runs to stand on; each round still completes instances of its own.
ROUNDS = 9
ROUND_SECONDS = 6
POOL = 30_000  # instances per owner at scale 1: each round completes fresh ones
P99_SHARE = 1.10

logger = logging.getLogger("bench")


def _owner(email: str, count: int, now: datetime) -> tuple[User, range]:
    owner = User.objects.create_user(email, PASSWORD, timezone=TIMEZONE)
    params = {"user": owner.pk, "count": count, "now": now, "today": local_today(TIMEZONE, now)}
    sql.execute(rest.POOL_HABITS_SQL, params)
    ids = [pk for _, pk in data.fill_pending(now, owner.pk)]
    if ids != list(range(ids[0], ids[-1] + 1)):
        raise RuntimeError("the pool's instance ids are not consecutive")
    return owner, range(ids[0], ids[-1] + 1)


def _row(what: str, load: wrk.Load, runs: list[wrk.Load]) -> Row:
    row = rest._row(rest.CHOSEN, what, load, runs)
    return Row(NAME, row.measure, row.value, row.budget, row.ok)


def _hooks_for(owner: User) -> None:
    """Written as the API would, but for the address check (nothing listens there)."""
    Webhook.objects.bulk_create(
        Webhook(user=owner, url=f"https://hooks{n}.example.com/in", events=["instance.updated"],
                secret=secret_new())
        for n in range(HOOKS)
    )  # fmt: skip


def _runs(server: Server, pools: dict[str, tuple[str, range]]) -> dict[str, list[wrk.Load]]:
    url = f"{server.url}{rest.COMPLETE}"
    runs: dict[str, list[wrk.Load]] = {name: [] for name in pools}
    for token, ids in pools.values():  # warm up both, on ids of their own
        wrk.run(url, token=token, seconds=rest.WARM_SECONDS, connections=rest.CONNECTIONS,
                method="POST", ids=ids[: len(ids) // 10])  # fmt: skip
    for turn in range(ROUNDS):
        for name, (token, ids) in pools.items():
            # Each round completes instances of its own: one done already records nothing.
            fresh = ids[len(ids) // 10 :]
            chunk = len(fresh) // ROUNDS
            mine = fresh[turn * chunk : (turn + 1) * chunk]
            load = wrk.run(url, token=token, seconds=ROUND_SECONDS, connections=rest.CONNECTIONS,
                           method="POST", ids=mine)  # fmt: skip
            logger.info("webhooks: %s %.0f req/s, p99 %.1f ms", name, load.per_second,
                        load.p99 * 1e3)  # fmt: skip
            runs[name].append(load)
    return runs


def run(scale: float) -> Result:
    wrk.require()
    now = timezone.now()
    data.reset()
    count = max(200, round(POOL * scale))
    bare, bare_ids = _owner("nohooks@example.com", count, now)
    hooked, hooked_ids = _owner("hooks@example.com", count, now)
    _hooks_for(hooked)
    sql.settle(*data.APP_TABLES)
    pools = {
        "no hooks": (rest._token(bare), bare_ids),
        f"{HOOKS} hooks": (rest._token(hooked), hooked_ids),
    }
    with serving() as server:
        runs = _runs(server, pools)
    none, three = (rest._median(runs[name]) for name in pools)
    owed = sql.scalar("SELECT count(*) FROM webhooks_webhookdelivery")
    done = sql.scalar(
        "SELECT count(*) FROM instances_habitinstance WHERE user_id = %s AND status = 'completed'",
        [hooked.pk],
    )
    if owed != done * HOOKS:  # every completion measured wrote its deliveries
        raise RuntimeError(f"{owed} deliveries owed for {done} completions")
    share = three.p99 / none.p99
    what = f"POST {rest.COMPLETE.replace('_ID_', '{id}')}"
    rounds = f"median of {ROUNDS} interleaved {ROUND_SECONDS} s runs"
    hooked_what = f"{what}, {HOOKS} hooks subscribed ({owed:,} deliveries owed; {rounds})"
    ratio = f"{share:.2f} ({millis(three.p99)} / {millis(none.p99)})"
    return Result(
        [
            _row(f"{what}, no hooks ({rounds})", none, runs["no hooks"]),
            _row(hooked_what, three, runs[f"{HOOKS} hooks"]),
            Row(
                NAME,
                f"completion p99 with {HOOKS} hooks / without",
                ratio,
                f"≤ {P99_SHARE:.2f}",
                share <= P99_SHARE,
            ),
        ]
    )
