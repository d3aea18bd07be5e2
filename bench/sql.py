"""Small helpers over Django's connection to the benchmark database (after django.setup)."""

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")
Params = Mapping[str, Any] | Sequence[Any] | None

BULK_MAINTENANCE_WORK_MEM = "1GB"


def execute(statement: str, params: Params = None) -> int:
    """Run one statement; returns the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def fetch(statement: str, params: Params = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def scalar(statement: str, params: Params = None) -> Any:
    return fetch(statement, params)[0][0]


def timed(call: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def settle(*tables: str) -> None:
    """Fresh statistics and visibility maps, and no checkpoint debt, before a timed run."""
    for table in tables:
        execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
    execute("CHECKPOINT")


def _constraints(table: str) -> list[tuple[str, str, str, str]]:
    """(owner table, name, type, definition) of the keys of `table` and FKs to or from it."""
    return [
        (owner, name, kind, definition)
        for owner, name, kind, definition in fetch(
            """
            SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
            FROM pg_constraint
            WHERE (conrelid = %(t)s::regclass AND contype IN ('p', 'u', 'f'))
               OR (confrelid = %(t)s::regclass AND contype = 'f')
            ORDER BY conname
            """,
            {"t": table},
        )
    ]


def _plain_indexes(table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of `table` that back no constraint."""
    return fetch(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = %(t)s
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conrelid = %(t)s::regclass AND c.conname = i.indexname)
        ORDER BY i.indexname
        """,
        {"t": table},
    )


def _drop(constraints: list[tuple[str, str, str, str]], indexes: list[tuple[str, str]]) -> None:
    quote = connection.ops.quote_name
    for owner, name, _, _ in sorted(constraints, key=lambda c: c[2] != "f"):
        execute(f"ALTER TABLE {owner} DROP CONSTRAINT {quote(name)}")
    for name, _ in indexes:
        execute(f"DROP INDEX {quote(name)}")


def _create(constraints: list[tuple[str, str, str, str]], indexes: list[tuple[str, str]]) -> None:
    quote = connection.ops.quote_name
    execute(f"SET maintenance_work_mem = '{BULK_MAINTENANCE_WORK_MEM}'")
    for owner, name, _, definition in sorted(constraints, key=lambda c: c[2] == "f"):
        execute(f"ALTER TABLE {owner} ADD CONSTRAINT {quote(name)} {definition}")
    for _, definition in indexes:
        execute(definition)
    execute("RESET maintenance_work_mem")


@contextmanager
def without_indexes(table: str) -> Iterator[None]:
    """Bulk-load `table` with its keys, indexes and FKs dropped; all put back identically."""
    constraints, indexes = _constraints(table), _plain_indexes(table)
    _drop(constraints, indexes)
    try:
        yield
    finally:
        _create(constraints, indexes)
    if (_constraints(table), _plain_indexes(table)) != (constraints, indexes):
        raise RuntimeError(f"the indexes of {table} did not come back as they were")
