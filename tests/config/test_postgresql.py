"""The PostgreSQL backend's health check (config/postgresql/base.py): a connection the
server ended is made anew before the next request's first statement; one the server said
nothing on is used without asking it `SELECT 1` first. Its statements planned once, and the
settings' `jit = off` on every connection (DB_JIT)."""

import os
import subprocess
import sys
import time

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper

from config.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every `SELECT 1` health check Django sends, with its answer."""
    answers: list[bool] = []
    real = DjangoWrapper.is_usable

    def is_usable(self: DjangoWrapper) -> bool:
        answers.append(real(self))
        return answers[-1]

    monkeypatch.setattr(DjangoWrapper, "is_usable", is_usable)
    return answers


def _next_request() -> None:
    """What Django does between two requests on a worker's connection (kept open: the test
    settings' CONN_MAX_AGE of 0 would close it)."""
    connection.close_at = None
    connection.close_if_unusable_or_obsolete()


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_connection_in_use_is_not_asked_select_1_before_the_next_request(asked):
    assert connection.health_check_enabled
    first = _backend_pid()
    _next_request()

    assert _backend_pid() == first
    assert asked == []


def test_a_connection_the_server_ended_is_made_anew_before_the_next_request(asked):
    ended = _backend_pid()
    _terminate(ended)
    time.sleep(0.2)  # the server's goodbye reaches the socket
    _next_request()

    assert _backend_pid() != ended  # the request's statement ran, on a new connection
    assert asked == [False]


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_a_prepared_cursor_has_its_statement_planned_once_from_its_fifth_run():
    for n in range(4):
        with connection.prepared_cursor() as cursor:
            cursor.execute("SELECT %s::int + 1", [n])
    assert "SELECT $1::int + 1" not in _prepared()

    for n in range(2):
        with connection.prepared_cursor() as cursor:
            cursor.execute("SELECT %s::int + 1", [n])
            assert cursor.fetchone() == (n + 1,)
    assert "SELECT $1::int + 1" in _prepared()


def test_the_usual_cursor_sends_each_statement_as_new_text():
    for n in range(6):
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::int + 2", [n])
    assert not [s for s in _prepared() if "+ 2" in s]


@pytest.mark.parametrize(("options", "threshold"), [({}, 5), ({"prepare_threshold": None}, None)])
def test_preparing_is_on_unless_the_options_turn_it_off(options, threshold):
    # DB_PREPARE_THRESHOLD=off (behind a pooler that keeps no prepared statements) sets None.
    settings = {**connection.settings_dict, "OPTIONS": options}
    params = DatabaseWrapper(settings).get_connection_params()
    assert params["prepare_threshold"] == threshold


def test_our_connections_compile_no_statement_with_jit():
    # PostgreSQL's default would JIT-compile a course check over thousands of habits (its
    # estimate counts the count subplan that never runs): 100 ms of compiling for 10 ms of
    # work (docs/DECISIONS.md, "No JIT on our connections").
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def _options_for(**env: str) -> str:
    """The `options` the settings give the connection under this environment."""
    code = (
        "import config.settings.base as s; print(s.DATABASES['default']['OPTIONS'].get('options'))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return run.stdout.strip()


@pytest.mark.parametrize(
    ("env", "options"),
    [
        ({}, "-c jit=off"),
        # The operator's own options in the URL replace ours (they may turn JIT off too).
        (
            {"DATABASE_URL": "postgres://u@h:5432/d?options=-c%20statement_timeout%3D5s"},
            "-c statement_timeout=5s",
        ),
        # Behind a pooler that refuses startup options: nothing asked, the role's setting holds.
        ({"DB_JIT": "server"}, "None"),
    ],
)
def test_jit_is_asked_off_at_connect_unless_the_url_or_db_jit_says_otherwise(env, options):
    assert _options_for(**{"DATABASE_URL": "postgres://u@h:5432/d", **env}) == options


def test_an_unknown_db_jit_stops_the_start_naming_the_setting():
    with pytest.raises(subprocess.CalledProcessError) as refused:
        _options_for(DATABASE_URL="postgres://u@h:5432/d", DB_JIT="on")
    assert "DB_JIT must be 'off' or 'server', not 'on'" in refused.value.stderr
