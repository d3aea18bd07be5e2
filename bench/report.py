"""The result table: printed, and kept in docs/PERFORMANCE.md between two markers."""

import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
INTRO = """# Performance

Budgets of the performance issue, measured by the benchmark suite in `bench/`:

    make bench                              # installs wrk if missing, then the full run
    .venv/bin/python -m bench               # full size (about twenty minutes on 2 CPUs)
    .venv/bin/python -m bench --scale 0.01  # a quick smoke run (not written here)
    .venv/bin/python -m bench --only sweep  # or generation, reminders, today, stats, sockets,
                                            # rest, export, telegram_burst

The suite creates and drops its own PostgreSQL database (`bench_habits_<pid>`) and claims a
Redis database the way a test run does (so a bench beside tests or another bench shares
nothing), fills them with set-based SQL and times the production code paths.
`sockets` and `rest` start real web server processes (`bench/server/`: production settings
plus three baselines mounted only there) and load them over the loopback only, each run
bounded in time and count. The section below is rewritten by every full-size run.
"""
NO_BUDGET = "—"


@dataclass(frozen=True)
class Row:
    scenario: str
    measure: str
    value: str
    budget: str = NO_BUDGET
    ok: bool | None = None


@dataclass
class Result:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def millis(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f} %"


def _mark(ok: bool | None) -> str:
    return NO_BUDGET if ok is None else ("✓" if ok else "✗")


def table(rows: list[Row]) -> str:
    lines = ["| scenario | measure | value | budget | ok |", "|---|---|---|---|---|"]
    lines += [
        f"| {r.scenario} | {r.measure} | {r.value} | {r.budget} | {_mark(r.ok)} |" for r in rows
    ]
    return "\n".join(lines)


def _ram_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def environment(*, versions: dict[str, str], elapsed: float, scale: float) -> str:
    cpus = len(os.sched_getaffinity(0))
    stack = ", ".join(f"{name} {version}" for name, version in versions.items())
    return (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, scale {scale:g}, {elapsed:.0f} s in all. "
        f"{stack}; {platform.machine()}, {cpus} CPUs (nproc), {_ram_gib():.0f} GiB RAM."
    )


def section(*, header: str, rows: list[Row], notes: list[str]) -> str:
    parts = [header, "", table(rows)]
    parts += [f"\n{note}" for note in notes]
    return "\n".join(parts)


def write_docs(text: str, path: Path = DOCS) -> None:
    """Replace what lies between the markers (the file and markers are made if missing)."""
    current = path.read_text() if path.exists() else INTRO
    if START not in current or END not in current:
        current = f"{current.rstrip()}\n\n{START}\n{END}\n"
    before, rest = current.split(START, 1)
    after = rest.split(END, 1)[1]
    path.write_text(f"{before}{START}\n{text}\n{END}{after}")
