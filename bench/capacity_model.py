"""The capacity model of docs/SCALING.md as a calculator: change an assumption, get the sizes.

    .venv/bin/python -m bench.capacity_model                      # 10k, 100k and 1M users
    .venv/bin/python -m bench.capacity_model --users 250000 --set telegram_share=0.8

Every constant measured on the 2-CPU bench machine names its source: a row of
docs/PERFORMANCE.md, or its section "Sizes for the capacity model" (`python -m
bench.capacity`). Assumptions are guesses about users, meant to be changed.
"""

import argparse
import math
from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class Assumptions:
    """How users behave. Each a guess; docs/SCALING.md, "The load model", says why."""

    habits: float = 3  # daily habits a user: one instance each a day
    done_share: float = 0.7  # instances completed (the rest miss, then expire)
    web_share: float = 0.5  # completions made on the web (the rest from the bot)
    opens: float = 3  # dashboard opens a user a day
    open_minutes: float = 10  # how long a dashboard (its socket) stays open
    stats_views: float = 1  # a habit's stats page a user a day
    telegram_share: float = 0.5  # users bound to the bot (one reminder an instance)
    zone_share: float = 0.5  # users in the largest time zone
    busiest_hour: float = 0.25  # share of a zone's day in its busiest hour
    minute_over_hour: float = 2.0  # the busiest minute's rate over that hour's mean
    busiest_minute_habits: float = 0.2  # a zone's habits timed on its busiest minute (08:00)
    bloat: float = 1.3  # steady-state table and index size over a fresh bulk load
    node_target: float = 0.6  # the share of a node's CPU planned to be busy at peak
    layer_check_seconds: float = 5  # WS_LAYER_CHECK_SECONDS: a process's heartbeat (a setting)
    # CPU a second an idle socket costs its worker at the 5 s heartbeat. Not measured since the
    # heartbeat became one a process (it was 102-124 µs with one a socket): none by default.
    idle_socket_cpu_us: float = 0
    # Redis's work renewing one socket's lease inside RENEW_MANY, in lease scripts (the unit of
    # its measured ceiling). Not measured: 1 is an upper bound (5 of the lease's 6 calls, no
    # round trip of its own).
    renewal_in_leases: float = 1
    # Share of opens whose me, today and habits reads find their cache entry: those live 60 s
    # (TTL_SECONDS), far less than the hours between a user's opens, so by default none.
    warm_opens: float = 0


@dataclass(frozen=True)
class Measured:
    """Constants measured on this machine (2 CPUs), or counted in the code where said; the
    source of each is in SCALING.md."""

    # A cached read, one 2-CPU node: today 3,595, habits 3,298, me 2,966, stats 3,404, public
    # 4,185 req/s (PERFORMANCE, Issue 24, first round).
    node_cached_rps: float = 3_300
    node_read_rps: float = 199  # a miss: GET /api/habits/ uncached (18:40; 365 at 15:32)
    node_write_rps: float = 228  # POST complete, 3 statements (Issue 24, first round; skip 234)
    connect_ms: float = 3.8  # a socket's connect, hello and snapshot (5,000 in 19.1 s)
    socket_kib: float = 44  # a socket's memory: 10,000 over 2 workers in 689 MiB
    worker_mib: float = 128  # a web worker with no socket
    sockets_per_worker: int = 5_000  # held and measured in one process
    workers_per_node: int = 2  # WEB_WORKERS on 2 CPUs
    # An instance row with its indexes, fresh (capacity, 20M rows: 251 bytes, less the 31.5 of
    # the `(habit, -date)` index dropped since, a duplicate of the unique one).
    row_bytes: float = 219.5
    generation_us_per_row: float = 69  # the INSERT into a full table (capacity: 54-69)
    # instances_sweep(), owners online: 308.1 ms for 10,000 due at 20M rows, 30.7 ms for 1,000 at
    # 5M (PERFORMANCE, Issue 24, fourth round), without JIT and on a machine faster than the
    # one the tick's and the generation's figures come from (those are the conservative ones).
    sweep_ms_per_1000: float = 30.8
    tick_ms_per_1000: float = 61.8  # a reminder decision tick, 1,000 due (PERFORMANCE)
    telegram_per_second: float = 30 / 1.03  # the relay's measured pace (344 s for 10,000)
    redis_cmds_per_read: float = 1  # an authenticated GET without the near cache (capacity)
    redis_cmds_per_completion: float = 12.7  # the owner online (capacity)
    layer_cmds_per_completion: float = 7.7  # the frame's group_send: online minus offline
    # Counted in the code, not measured: a socket's life outside its heartbeat. Main: the
    # token read, the lease at open and at close; layer: the epoch (SET NX, GET), group_add
    # (ZADD, EXPIRE), group_discard (ZREM). realtime/consumers.py, realtime/auth.py.
    main_cmds_per_socket_life: float = 3
    layer_cmds_per_socket_life: float = 5
    # A process's heartbeat a period (realtime/heartbeat.py): SET NX and GET of the epoch on
    # each layer shard, one RENEW_MANY EVAL on the main Redis a batch of sockets.
    epoch_cmds_per_shard: float = 2
    renew_batch: int = 500  # RENEW_BATCH, core/presence.py
    redis_ops_per_server: float = 23_000  # the presence EVAL on one Redis here (capacity)


DAY = 86_400


def peak_factor(a: Assumptions) -> float:
    """The busiest minute's request rate over the day's mean: the largest zone's morning on
    top of everyone else's mean."""
    return 24 * a.zone_share * a.busiest_hour * a.minute_over_hour + (1 - a.zone_share)


def layer_shards(main_work: float, layer_ops: float, ceiling: float) -> int:
    """0 while one Redis carries everything; past that the layer's own servers
    (CHANNEL_REDIS_URLS). The main Redis stays one: nothing shards it."""
    if main_work + layer_ops <= ceiling:
        return 0
    return math.ceil(layer_ops / ceiling)


def heartbeat_commands(
    processes: int, sockets: float, shards: int, a: Assumptions, m: Measured
) -> tuple[float, float]:
    """Commands a second the processes' heartbeats send: (main, layer). One RENEW_MANY a
    batch of a process's sockets, and the epoch read once a layer shard a process."""
    batches = math.ceil(sockets / processes / m.renew_batch) if sockets else 0
    main = processes * batches / a.layer_check_seconds
    layer = processes * max(1, shards) * m.epoch_cmds_per_shard / a.layer_check_seconds
    return main, layer


def sizes(users: int, a: Assumptions, m: Measured) -> dict[str, float]:
    peak = peak_factor(a)
    completions = a.habits * a.done_share
    web_completions = completions * a.web_share
    # Requests a user a day: each open reads me, today, habits and pauses, and refreshes its
    # access token (a write, 15 min TTL); a stats page; a web completion re-reads today.
    # Misses: pauses (not cached), one read after each change of the user (a completion, web
    # or bot), and the open's three cached reads unless their 60 s entries are still warm.
    all_reads = a.opens * 4 + a.stats_views + web_completions
    reads = min(all_reads, a.opens + completions + a.opens * 3 * (1 - a.warm_opens))
    cached = all_reads - reads
    writes = a.opens + web_completions
    node_seconds_day = (
        cached / m.node_cached_rps
        + reads / m.node_read_rps
        + writes / m.node_write_rps
        + a.opens * m.connect_ms / 1e3
    )
    requests_day = cached + reads + writes
    peak_rps = users * requests_day / DAY * peak
    sockets_peak = users * a.opens * a.open_minutes * 60 / DAY * peak
    connects_peak = users * a.opens / DAY * peak  # and as many closes
    node_cpu_requests = users * node_seconds_day / DAY * peak
    # Given at the default 5 s; an idle socket's cost taken as all heartbeat (not measured).
    beat = 5 / a.layer_check_seconds
    node_cpu_sockets = sockets_peak * a.idle_socket_cpu_us * beat / 1e6 / m.workers_per_node
    nodes = (node_cpu_requests + node_cpu_sockets) / a.node_target
    socket_workers = sockets_peak / m.sockets_per_worker
    nodes = max(1, math.ceil(max(nodes, socket_workers / m.workers_per_node)))
    processes = nodes * m.workers_per_node
    per_node_sockets = sockets_peak / nodes
    node_mib = m.workers_per_node * m.worker_mib + per_node_sockets * m.socket_kib / 1024
    # Redis: each authenticated request one MGET (no near cache: the worst case), a
    # completion 12.7, a socket's open and close; the heartbeats a few commands a process.
    web_rps_peak = users * (cached + reads) / DAY * peak
    completions_rps_peak = users * completions / DAY * peak
    main_other = (
        web_rps_peak * m.redis_cmds_per_read
        + completions_rps_peak * m.redis_cmds_per_completion
        + connects_peak * m.main_cmds_per_socket_life
    )
    layer_other = (
        completions_rps_peak * m.layer_cmds_per_completion
        + connects_peak * m.layer_cmds_per_socket_life
    )
    # Inside each RENEW_MANY Redis still renews every socket: its work, in lease scripts.
    renewals = sockets_peak / a.layer_check_seconds * a.renewal_in_leases
    main_beat, layer_beat = heartbeat_commands(processes, sockets_peak, 1, a, m)
    shards = layer_shards(main_other + renewals, layer_other + layer_beat, m.redis_ops_per_server)
    main_beat, layer_beat = heartbeat_commands(processes, sockets_peak, shards, a, m)
    main_ops = main_other + main_beat
    main_work = main_other + renewals
    layer_ops = layer_other + layer_beat
    instances_day = users * a.habits
    # Writes an instance: its insert, the sweep's move to pending, then a completion or the
    # two moves to missed and fix_expired, a reminder's mark, and the outbox row written and
    # marked sent; plus each open's refresh-token rotation (insert and update).
    writes_instance = 1 + 1 + a.done_share + 2 * (1 - a.done_share) + 3 * a.telegram_share
    writes_day = instances_day * writes_instance + users * a.opens * 2
    rows_year = instances_day * 365
    due_busiest = users * a.habits * a.zone_share * a.busiest_minute_habits
    reminders_busiest = due_busiest * a.telegram_share
    return {
        "peak factor": peak,
        "requests a day": users * requests_day,
        "peak requests/s": peak_rps,
        "web CPU at peak, cores: requests": node_cpu_requests * m.workers_per_node,
        "web CPU at peak, cores: idle sockets (not measured)": node_cpu_sockets
        * m.workers_per_node,
        "web nodes (2 CPU)": nodes,
        "sockets open at peak": sockets_peak,
        "sockets a node": per_node_sockets,
        "memory a node, MiB": node_mib,
        "Redis main commands/s at peak": main_ops,
        "of which heartbeats (RENEW_MANY calls)": main_beat,
        "Redis main work at peak, lease scripts/s": main_work,
        "of which heartbeats (sockets renewed)": renewals,
        "Redis main, share of one server": main_work / m.redis_ops_per_server,
        "channel layer commands/s at peak": layer_ops,
        "of which heartbeats (epoch checks)": layer_beat,
        "channel-layer shards of its own": shards,
        "instance rows a day": instances_day,
        "writes a day": writes_day,
        "writes/s at peak": writes_day / DAY * peak,
        "instance rows after a year": rows_year,
        "instance table after a year, GB": rows_year * m.row_bytes * a.bloat / 1e9,
        "generation of the largest zone's day, s": instances_day
        * a.zone_share
        * m.generation_us_per_row
        / 1e6,
        "due in the busiest minute": due_busiest,
        "sweep seconds for them": due_busiest / 1000 * m.sweep_ms_per_1000 / 1e3,
        "reminder tick seconds for them": reminders_busiest / 1000 * m.tick_ms_per_1000 / 1e3,
        "reminders in the busiest minute": reminders_busiest,
        "Telegram send time, s": reminders_busiest / m.telegram_per_second,
    }


def _parse_set(values: list[str]) -> dict[str, float]:
    names = {f.name for f in fields(Assumptions)}
    out = {}
    for item in values:
        name, _, value = item.partition("=")
        if name not in names:
            raise SystemExit(f"unknown assumption {name!r}; one of {', '.join(sorted(names))}")
        out[name] = float(value)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity_model", description=__doc__)
    parser.add_argument("--users", type=int, action="append")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    a = replace(Assumptions(), **_parse_set(args.set))
    counts = args.users or [10_000, 100_000, 1_000_000]
    table = [sizes(users, a, Measured()) for users in counts]
    print("| | " + " | ".join(f"{users:,} users" for users in counts) + " |")
    print("|---|" + "---|" * len(counts))
    for key in table[0]:
        print(f"| {key} | " + " | ".join(_show(row[key]) for row in table) + " |")
    print("\nassumptions: " + ", ".join(f"{k}={v:g}" for k, v in asdict(a).items()))


def _show(value: float) -> str:
    if isinstance(value, int) or value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


if __name__ == "__main__":
    main()
