"""Each installation's Redis names under its own namespace (issue 17): one helper builds
every name (core/redis.py), every family of keys uses it, and the default namespace
follows the database (installation/identity.py). The whole systems sharing one Redis are
in tests/system/test_namespaces.py."""

import ast
import asyncio
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import OperationalError

from accounts.models import User
from config.celery import app
from core import redis as core_redis
from core.near_cache import near_prefix
from core.redis import get_redis, key, namespace, namespace_waiting
from installation import identity
from installation.identity import database_namespace
from installation.models import Installation
from tests.conftest import Api

# The test run's own namespace (config/settings/test.py: one per run).
NS = os.environ["REDIS_NAMESPACE"]

ROOT = Path(__file__).resolve().parents[2]
# Where Redis names may be spelled out: the helper itself, and the test run's claim on a
# Redis database (in database 0, shared by every run on the machine, so outside any one).
SPELLED_OUT = {"core/redis.py", "config/settings/test.py"}
SKIPPED_DIRS = {".venv", "tests", "node_modules", "staticfiles", "habits_tracker.egg-info"}


def _sources() -> list[Path]:
    return [
        path for path in ROOT.rglob("*.py") if not SKIPPED_DIRS & set(path.relative_to(ROOT).parts)
    ]


def _aht_literals(path: Path) -> list[str]:
    """String constants (f-strings' text too) that begin a Redis name of ours."""
    return [
        f"{path.name}:{node.lineno}: {node.value!r}"
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.match(r"aht(:|$)", node.value)
    ]


def test_no_redis_name_is_spelled_out_outside_core_redis():
    """A new key must come from core.redis.key, or it would be shared by every
    installation on the Redis database."""
    found = [
        literal
        for path in _sources()
        if path.relative_to(ROOT).as_posix() not in SPELLED_OUT
        for literal in _aht_literals(path)
    ]

    assert len(_sources()) > 50  # the scan did see the code
    assert found == []


def test_the_scan_would_catch_one(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text('LIMIT = f"aht:new-limit:{user}"\nPREFIX = "aht"\n')

    assert len(_aht_literals(stray)) == 2


def test_every_family_of_names_is_in_the_namespace():
    """The test run's namespace is "test" (config/settings/test.py)."""
    assert key("near", "auth", 1) == f"aht:{NS}:near:auth:1"
    assert near_prefix() == f"aht:{NS}:near:"
    assert get_channel_layer().prefix == f"aht:{NS}:ws:"
    with app.connection_for_write() as broker:
        assert broker.transport_options["global_keyprefix"] == f"aht:{NS}:celery:"
    with app.connection_for_read() as broker:
        assert broker.transport_options["global_keyprefix"] == f"aht:{NS}:celery:"
    assert cache.make_key("entry") == f"aht:{NS}:cache:1:entry"


def midday_zone() -> str:
    hours = (12 - datetime.now(UTC).hour + 12) % 24 - 12
    return f"Etc/GMT{-hours:+d}" if hours else "UTC"


def test_every_key_the_app_writes_is_in_its_namespace(transactional_db, events_of):
    """Throttles, token state, today, stats, presence, the channel layer, the broker, bind
    codes and Django's cache, all touched for real: not one name outside `aht:test:`."""
    api = Api()
    zone = midday_zone()
    body = {"email": "ann@example.com", "password": "correct horse battery", "timezone": zone}
    assert api.post("/api/auth/register/", body).status_code == 201
    wrong = {"email": "ann@example.com", "password": "wrong"}
    assert api.post("/api/auth/login/", wrong).status_code == 401
    api.login("ann@example.com", "correct horse battery")
    probe = events_of(User.objects.get(email="ann@example.com"))
    at = (datetime.now(UTC) - timedelta(minutes=1)).astimezone(ZoneInfo(zone))
    due = {"action": "read", "time_of_day": at.strftime("%H:%M"), "is_pleasant": True}
    habit = api.post("/api/habits/", due).json()
    [instance] = api.get("/api/instances/today/").json()  # born pending: a sweep is queued
    assert api.post(f"/api/instances/{instance['id']}/complete/").status_code == 200
    assert api.get(f"/api/habits/{habit['id']}/stats/").status_code == 200
    assert api.post("/api/telegram/bind-code/").status_code == 201
    cache.set("entry", "value")
    assert probe.types()  # the events went through the channel layer

    names = get_redis().keys("*")

    outside = [name for name in names if not name.startswith(f"aht:{NS}:".encode())]
    assert names
    assert outside == []
    assert {f"aht:{NS}:celery:celery".encode(), f"aht:{NS}:online".encode()} <= set(names)


# --- where the namespace comes from ---------------------------------------------------------


@pytest.fixture
def derived(settings):
    """No REDIS_NAMESPACE: the namespace comes from the database, as in a deployment."""
    settings.REDIS_NAMESPACE = ""
    namespace.cache_clear()
    yield
    namespace.cache_clear()


def test_unset_the_namespace_is_a_digest_of_the_database(derived, db):
    found = namespace()

    assert re.fullmatch(r"[0-9a-f]{12}", found)
    assert key("online") == f"aht:{found}:online"
    assert found == database_namespace()


def test_a_new_identity_row_is_a_new_namespace(derived, db):
    """A flushed database: its row went with the rest, `flush` made a new one."""
    before = database_namespace()
    Installation.objects.all().delete()
    Installation.objects.create()

    assert database_namespace() != before


def test_from_async_code_the_database_is_read_off_the_event_loop(derived, transactional_db):
    """A socket or a channel-layer send may be a process's first use of a name."""

    async def first_name() -> str:
        return key("ws", "epoch")

    assert asyncio.run(first_name()) == f"aht:{database_namespace()}:ws:epoch"


def test_a_database_that_does_not_answer_raises_and_is_asked_again(derived, db, monkeypatch):
    calls = []

    def down_once(using: str = "default") -> str:
        calls.append(using)
        if len(calls) == 1:
            raise OperationalError("connection refused")
        return "0123456789ab"

    monkeypatch.setattr(identity, "database_namespace", down_once)

    with pytest.raises(OperationalError):
        key("online")  # no name is built under a guess
    assert key("online") == "aht:0123456789ab:online"


def test_a_worker_waits_for_the_database_rather_than_guess(derived, monkeypatch):
    answers = iter([OperationalError("starting up"), identity.NotInstalled("no row"), "abc"])

    def slowly(using: str = "default") -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(identity, "database_namespace", slowly)
    monkeypatch.setattr(core_redis.time, "sleep", lambda seconds: None)

    assert namespace_waiting("the worker") == "abc"


# --- across processes: SQLite files (PostgreSQL: tests/system/test_namespaces.py) ----------


def _env(database_url: str, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_NAMESPACE", "TEST_RUN_SLOT"}}
    return {**env, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DATABASE_URL": database_url,
            **more}  # fmt: skip


def _python(database_url: str, *args: str, **more: str) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=_env(database_url, **more),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


PRINT_NAMESPACE = (
    "import django; django.setup(); from core.redis import namespace; print(namespace())"
)


def namespace_of(database_url: str, **env: str) -> str:
    """What a process of the installation on `database_url` takes as its namespace."""
    return _python(database_url, "-c", PRINT_NAMESPACE, **env).splitlines()[-1]


def migrate(database_url: str) -> None:
    _python(database_url, "manage.py", "migrate", "--noinput", "-v0")


def test_sqlite_files_copies_and_re_creations_each_have_their_own(tmp_path):
    """The embedded default: every process on one file agrees, and keeps agreeing across
    restarts (which migrate again); a copy of the file (a second checkout) and the file made
    anew at the same path (a reset) each get a namespace of their own."""
    original, copy = tmp_path / "db.sqlite3", tmp_path / "copy.sqlite3"
    url = f"sqlite:///{original}"
    migrate(url)
    first = namespace_of(url)
    migrate(url)  # `make run` migrates at every start
    shutil.copy(original, copy)

    assert namespace_of(url) == first
    assert namespace_of(f"sqlite:///{copy}") not in {first, ""}
    original.unlink()
    migrate(url)
    assert namespace_of(url) != first


def test_a_namespace_in_the_environment_is_used_as_it_is(tmp_path):
    url = f"sqlite:///{tmp_path / 'never-made.sqlite3'}"  # not read at all

    assert namespace_of(url, REDIS_NAMESPACE="staging") == "staging"


def test_a_namespace_that_could_run_into_another_refuses_to_start(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_env(f"sqlite:///{tmp_path / 'db.sqlite3'}", REDIS_NAMESPACE="prod:near"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "REDIS_NAMESPACE must be" in result.stderr
