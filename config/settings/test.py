"""The test run: real PostgreSQL and a Redis database of its own."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/habits")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")

from config.settings.base import *  # noqa: F403
from config.settings.base import ALLOWED_HOSTS

DEBUG = False
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
# Hashing strength is not what the tests are about; a fast hasher keeps them quick.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Threads of async tests (database_sync_to_async) must not keep connections past a test.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
