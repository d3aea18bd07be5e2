"""E2: the development settings never leave loopback. Their signing key is in the repository
(anyone could sign a token) and DEBUG answers tracebacks with settings; `make run` and the web
command refuse a non-loopback HOST with them, in one line, before touching anything."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from config.serving import exposure_refusal
from config.settings.base import DEV_SECRET_KEY
from tests.system.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
STRONG = "a-real-deployment-key-" + "r" * 40
# Nothing answers on port 1: a start that got as far as Redis or the database would say so.
UNREACHABLE = {
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
}


def _start(module: str, **env: str) -> tuple[int, str, int]:
    """Run `python -m module` with the development settings; (exit status, stderr, port).

    A process that does not refuse goes on serving: it is stopped after a while, with its
    whole process group (uvicorn's workers), and the test fails on its status."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "JWT_SIGNING_KEY"}}
    full_env = {**clean, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={**full_env, **UNREACHABLE, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate()
    return process.returncode, stderr, port


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("module", ["config.run", "config.serving"])
def test_a_public_host_with_the_development_settings_is_refused_in_one_line(module):
    status, stderr, port = _start(module, HOST="0.0.0.0")

    assert status == os.EX_CONFIG, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Refusing to serve on 0.0.0.0:")
    for what in ("SECRET_KEY", "JWT_SIGNING_KEY", "DEBUG=0"):
        assert what in lines[0]
    assert not _listening(port)


def test_a_public_host_with_debug_on_is_refused_even_with_real_keys():
    status, stderr, _ = _start("config.serving", HOST="0.0.0.0", SECRET_KEY=STRONG)

    assert status == os.EX_CONFIG
    assert "DEBUG is on" in stderr
    assert "development key" not in stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
@override_settings(DEBUG=True, SECRET_KEY=DEV_SECRET_KEY, JWT_SIGNING_KEY=DEV_SECRET_KEY)
def test_loopback_serves_the_development_settings(host):
    assert exposure_refusal(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "habits.example.com"])
def test_any_other_address_is_refused_with_a_public_key_or_debug(host):
    with override_settings(DEBUG=False, SECRET_KEY=STRONG, JWT_SIGNING_KEY=DEV_SECRET_KEY):
        assert "JWT_SIGNING_KEY is the public development key" in exposure_refusal(host)
    with override_settings(DEBUG=True, SECRET_KEY=STRONG, JWT_SIGNING_KEY=STRONG):
        assert "DEBUG is on" in exposure_refusal(host)
    with override_settings(DEBUG=False, SECRET_KEY=STRONG, JWT_SIGNING_KEY=STRONG):
        assert exposure_refusal(host) is None  # production's settings: served
