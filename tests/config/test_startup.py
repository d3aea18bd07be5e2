"""The process refuses to start on unsafe configuration, with one clear line."""

import os
import subprocess
import sys
from pathlib import Path

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
