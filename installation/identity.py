"""Which database this is: the default Redis namespace of the installation using it.

Two installations may share one Redis database; what tells them apart, and what changes when
a database is reset under a running Redis, is the database. So the namespace is a digest of:

- the `Installation` row's key, a random UUID made by the first `migrate` (and by a `flush`,
  which empties the table): a database made anew or emptied gets a new one;
- where the data lives: for PostgreSQL the cluster's system identifier and the database's
  oid, for SQLite the file's device and inode. A copy of a database (a restored dump, a
  copied file) carries the same row but lives elsewhere.

Every process of one installation reads the same database, so they all agree; a value
differing after a reset or a restore only means a cold cache. docs/DECISIONS.md has the
reasoning ("Each installation its own Redis namespace").
"""

import asyncio
import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from core.redis import NotInstalled
from installation.models import Installation

T = TypeVar("T")
DIGITS = 12  # 48 bits: no two installations of one Redis will ever meet


def database_namespace(using: str = DEFAULT_DB_ALIAS) -> str:
    """The namespace derived from database `using` (one query or three; no writes)."""
    return _outside_event_loop(lambda: _derive(using))


def _derive(using: str) -> str:
    key = Installation.objects.using(using).values_list("key", flat=True).first()
    if key is None:
        raise NotInstalled("this database has no installation row: run `manage.py migrate`")
    place = _storage_identity(connections[using])
    return hashlib.sha256(f"{key}|{place}".encode()).hexdigest()[:DIGITS]


def _storage_identity(connection: BaseDatabaseWrapper) -> str:
    """Where this database's data lives; stable for as long as the database does."""
    if connection.vendor == "postgresql":
        return _postgresql_identity(connection)
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        found = os.stat(os.path.realpath(connection.settings_dict["NAME"]))
        # Not its ctime: SQLite's own writes move it.
        return f"sqlite:{found.st_dev}:{found.st_ino}"
    return connection.vendor


def _postgresql_identity(connection: BaseDatabaseWrapper) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        oid = cursor.fetchone()[0]
        try:
            # A savepoint: a role refused the function must not spoil a caller's transaction.
            with transaction.atomic(using=connection.alias):
                cursor.execute("SELECT system_identifier FROM pg_control_system()")
                cluster = cursor.fetchone()[0]
        except DatabaseError:
            cluster = "?"  # the oid alone still tells a re-created database apart
    return f"postgresql:{cluster}:{oid}"


def _outside_event_loop(read: Callable[[], T]) -> T:
    """Django refuses database work on a thread running an event loop: from async code (a
    socket, or the channel-layer sends, before anything in the process knew the namespace)
    the read runs once in a thread of its own, which closes its connection after."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return read()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="namespace") as pool:
        return pool.submit(_closing_connections, read).result()


def _closing_connections(read: Callable[[], T]) -> T:
    try:
        return read()
    finally:
        connections.close_all()
