"""Run the benchmark scenarios and print one markdown table.

    .venv/bin/python -m bench [--only NAME] [--scale 0.01]

NAME: generation, sweep, reminders, today, stats, sockets, rest, export, imports, webhooks or
telegram_burst.

A full run (every scenario, scale 1) also rewrites its section of docs/PERFORMANCE.md.
"""

import argparse
import logging
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from bench import database, report

SCENARIOS = (
    "generation", "sweep", "reminders", "today", "stats", "sockets", "rest", "export", "imports",
    "webhooks", "telegram_burst",
)  # fmt: skip
# Every statement of the run stops by itself, even under a pathological plan.
STATEMENT_TIMEOUT = "600s"

logger = logging.getLogger("bench")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run only NAME")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor, e.g. 0.01")
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help=f"leave {database.NAME} and Redis for inspection (the next run drops them)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    return args


def _limit_statements(connection: Any, **_: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")


def _setup_django() -> None:
    import django
    from django.core.management import call_command
    from django.db.backends.signals import connection_created

    django.setup()
    logging.getLogger("bench").setLevel(logging.INFO)
    connection_created.connect(_limit_statements)
    call_command("migrate", verbosity=0)


def _scenario(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"bench.{name}")


def _versions() -> dict[str, str]:
    import django

    from bench import sql

    return {
        "Python": sys.version.split()[0],
        "Django": django.get_version(),
        "PostgreSQL": str(sql.scalar("SHOW server_version")).split()[0],
    }


def _run_one(name: str, scale: float) -> report.Result:
    """One scenario's result; a scenario that fails is a failed row, not a lost run."""
    logger.info("%s: starting", name)
    try:
        run: Callable[[float], report.Result] = _scenario(name).run
        return run(scale)
    except Exception as error:
        logger.exception("%s failed", name)
        message = " ".join(str(error).split()).replace("|", "/")[:120]
        return report.Result(
            [report.Row(name, "failed", f"{type(error).__name__}: {message}", ok=False)]
        )


def _run(names: list[str], scale: float) -> report.Result:
    total = report.Result()
    for name in names:
        result = _run_one(name, scale)
        total.rows += result.rows
        total.notes += result.notes
    return total


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    names = [name for name in SCENARIOS if not args.only or name in args.only]
    started = time.perf_counter()
    database.configure_environment()
    database.claim_redis()
    database.create_database()
    try:
        _setup_django()
        result = _run(names, args.scale)
        versions = _versions()
    finally:
        _close_connections()
        if not args.keep_db:
            database.drop_database()
            database.release_redis()
    header = report.environment(
        versions=versions, elapsed=time.perf_counter() - started, scale=args.scale
    )
    text = report.section(header=header, rows=result.rows, notes=result.notes)
    print(text)
    if args.scale == 1 and names == list(SCENARIOS):
        report.write_docs(text)
        print(f"\nwritten to {report.DOCS}")
    return 0 if all(row.ok is not False for row in result.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
