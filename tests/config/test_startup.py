"""The process refuses to start on unsafe configuration, with one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_signing_key_under_32_bytes_refuses_to_start():
    result = _run("manage.py", "check", SECRET_KEY="too-short-key")

    assert result.returncode != 0
    assert "SECRET_KEY must be at least 32 bytes" in result.stderr


def test_a_short_jwt_key_refuses_to_start_even_with_a_long_secret_key():
    result = _run("manage.py", "check", SECRET_KEY="k" * 50, JWT_SIGNING_KEY="short")

    assert result.returncode != 0
    assert "JWT_SIGNING_KEY must be at least 32 bytes" in result.stderr


def test_run_stops_at_once_with_one_line_when_redis_does_not_answer():
    result = _run(
        "-m",
        "config.run",
        REDIS_URL="redis://127.0.0.1:1/0",
        DJANGO_SETTINGS_MODULE="config.settings.dev",
    )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Redis does not answer at redis://127.0.0.1:1/0")


def test_channel_redis_urls_shard_the_layer_and_a_bad_one_refuses_to_start():
    shards = "redis://127.0.0.1:6391/0,redis://127.0.0.1:6392/0"
    probe = "from channels.layers import get_channel_layer as g; l = g(); print(l.ring_size)"
    sharded = _run("manage.py", "shell", "-c", probe, CHANNEL_REDIS_URLS=shards)
    bad = _run("manage.py", "check", CHANNEL_REDIS_URLS="redis://127.0.0.1:6391/0,6392")
    twice = _run("manage.py", "check", CHANNEL_REDIS_URLS=f"{shards},redis://127.0.0.1:6391/0")

    assert sharded.stdout.strip().splitlines()[-1] == "2", sharded.stderr
    assert bad.returncode != 0
    assert "CHANNEL_REDIS_URLS must be redis:// URLs separated by commas, got '6392'" in bad.stderr
    assert twice.returncode != 0
    assert "CHANNEL_REDIS_URLS names a server twice" in twice.stderr


def test_run_processes_naming_an_unknown_process_refuses_to_start_with_one_line():
    result = _run("-m", "config.run", RUN_PROCESSES="web,wroker", REDIS_URL="redis://127.0.0.1:1/0")

    assert result.returncode == os.EX_CONFIG
    assert result.stderr.strip().splitlines() == [
        "RUN_PROCESSES names wroker: it takes a comma-separated choice of web, worker, beat, bot."
    ]


@pytest.mark.parametrize("module", ["config.run", "config.serving"])
def test_a_web_server_other_than_uvicorn_or_daphne_refuses_to_start_with_one_line(module):
    # REDIS_URL unreachable: a start that got past the refusal would fail otherwise.
    result = _run("-m", module, WEB_SERVER="bogus", REDIS_URL="redis://127.0.0.1:1/0")

    assert result.returncode == os.EX_CONFIG
    assert result.stderr.strip().splitlines() == [
        "WEB_SERVER is 'bogus': it takes uvicorn (the default) or daphne (README, the web server)."
    ]
