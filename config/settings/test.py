"""The test run: real PostgreSQL and a Redis database of its own.

Two runs on one machine (two checkouts, a developer beside CI) must not share a test database
or a Redis database: each run claims a free slot n, and uses Redis database n and the test
database `test_habits_<n>`. `DATABASE_URL` or `REDIS_URL` in the environment win, as before.
Processes a test starts inherit the choice through the environment.
"""

import atexit
import os
import uuid

import redis

CLAIM_URL = os.environ.get("TEST_REDIS_CLAIM_URL", "redis://127.0.0.1:6379/0")
# Redis databases a run may take (a range): 0 is the development default.
SLOTS = [int(n) for n in os.environ.get("TEST_REDIS_SLOTS", "1-15").split("-")]
SLOTS = list(range(SLOTS[0], SLOTS[-1] + 1))
# A run killed without cleaning up holds its slot this long at most.
CLAIM_SECONDS = 4 * 3600


def _claim_slot() -> int:
    """The first slot no other run holds; released when this process exits."""
    client = redis.Redis.from_url(CLAIM_URL, socket_timeout=5, socket_connect_timeout=5)
    holder = f"{os.getpid()}-{uuid.uuid4().hex}"
    for slot in SLOTS:
        key = f"aht:test-run-slot:{slot}"
        if client.set(key, holder, nx=True, ex=CLAIM_SECONDS):
            atexit.register(_release, client, key, holder)
            return slot
    raise RuntimeError(f"every test slot {SLOTS} is taken: too many test runs at once")


def _release(client: redis.Redis, key: str, holder: str) -> None:
    if client.get(key) == holder.encode():
        client.delete(key)


if "TEST_RUN_SLOT" not in os.environ and not (
    "REDIS_URL" in os.environ and "DATABASE_URL" in os.environ
):
    os.environ["TEST_RUN_SLOT"] = str(_claim_slot())
SLOT = os.environ.get("TEST_RUN_SLOT")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/habits")
os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{SLOT}")
# One Redis namespace for the run and every process a test starts (they inherit it): the
# default, derived from the database, changes whenever a test flushes the database.
# tests/config/test_namespace.py and tests/system/test_namespaces.py unset it. Per run (its
# slot): the near cache's reports cover every Redis database, so two runs must not share one.
os.environ.setdefault("REDIS_NAMESPACE", f"test{SLOT or ''}")

from config.settings.base import *  # noqa: E402, F403
from config.settings.base import ALLOWED_HOSTS  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
# Hashing strength is not what the tests are about; a fast hasher keeps them quick.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Threads of async tests (database_sync_to_async) must not keep connections past a test.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
if SLOT is not None:
    DATABASES["default"].setdefault("TEST", {})["NAME"] = f"test_habits_{SLOT}"  # noqa: F405
