"""The throwaway databases: created before Django connects, dropped when the run ends.

Only `bench_habits` is ever created or dropped; the maintenance database `postgres` is
used for nothing but those two statements. Redis gets a database number of its own (not
the tests' 9, which pytest flushes), claimed with a marker key and emptied at the end.
"""

import os

import psycopg
import redis
from psycopg import sql

SERVER = "postgres://postgres@127.0.0.1:5432"
NAME = "bench_habits"
URL = f"{SERVER}/{NAME}"
SETTINGS = "config.settings.test"
REDIS_URL = "redis://127.0.0.1:6379/12"
REDIS_MARKER = "bench:owner"


def configure_environment() -> None:
    """Point Django at the throwaway databases (forced: never other ones)."""
    os.environ["DATABASE_URL"] = URL
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS


def _admin(statement: sql.Composed) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def create_database() -> None:
    """A fresh, empty database (a leftover one of an interrupted run is dropped first)."""
    drop_database()
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(NAME)))


def drop_database() -> None:
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME)))


def _redis() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL)


def claim_redis() -> None:
    """Empty the bench's Redis database, refusing one that holds anybody else's keys."""
    client = _redis()
    if client.dbsize() and not client.exists(REDIS_MARKER):
        raise RuntimeError(f"{REDIS_URL} holds keys the benchmark did not write; not using it")
    client.flushdb()
    client.set(REDIS_MARKER, "python -m bench")


def release_redis() -> None:
    client = _redis()
    if client.exists(REDIS_MARKER):
        client.flushdb()
