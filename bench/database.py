"""The throwaway databases: created before Django connects, dropped when the run ends.

Each run has its own: the PostgreSQL database `bench_habits_<pid>` (only such databases
are ever created or dropped; the maintenance database `postgres` is used for nothing but
those statements, and a leftover one of a run that no longer lives is dropped), and a Redis
database claimed the way a test run claims one (config/settings/test.py: a free slot, held
while the run lives), so a bench beside a test run or another bench shares nothing.
"""

import importlib
import os

import psycopg
import redis
from psycopg import sql

SERVER = "postgres://postgres@127.0.0.1:5432"
PREFIX = "bench_habits_"
NAME = f"{PREFIX}{os.getpid()}"
URL = f"{SERVER}/{NAME}"
SETTINGS = "config.settings.test"
REDIS_MARKER = "bench:owner"


def configure_environment() -> None:
    """Point Django at the throwaway databases (forced: never other ones). Importing the
    test settings claims the run's Redis slot (`REDIS_URL`, `REDIS_NAMESPACE`), which the
    servers the run starts inherit."""
    os.environ["DATABASE_URL"] = URL
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("TEST_RUN_SLOT", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    importlib.import_module(SETTINGS)


def _admin(statement: sql.Composed) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers() -> list[str]:
    """Databases of bench runs whose process is gone (interrupted with --keep-db or killed)."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        names = [n for (n,) in conn.execute("SELECT datname FROM pg_database").fetchall()]
    return [
        name
        for name in names
        if name == PREFIX.rstrip("_")  # the one shared name of older runs
        or (
            name.startswith(PREFIX)
            and name[len(PREFIX) :].isdigit()
            and not _alive(int(name[len(PREFIX) :]))
        )
    ]


def create_database() -> None:
    """A fresh, empty database of this run (leftovers of dead runs are dropped first)."""
    for name in _leftovers():
        _drop(name)
    _drop(NAME)
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(NAME)))


def _drop(name: str) -> None:
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def drop_database() -> None:
    _drop(NAME)


def _redis() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def claim_redis() -> None:
    """Empty the run's Redis database: the slot is this run's alone while it lives (a test
    run that held it before may have left keys, as it leaves them for the next test run)."""
    client = _redis()
    client.flushdb()
    client.set(REDIS_MARKER, "python -m bench")


def release_redis() -> None:
    client = _redis()
    if client.exists(REDIS_MARKER):
        client.flushdb()
