"""A real web server process for the bench, on the bench's databases and a free port.

By default the production command (config/serving.py) with `bench.server.settings`, under
WEB_SERVER's server or the one named (uvicorn or Daphne, compared side by side); the
serving-layout comparison passes other commands. Stopped with SIGTERM (SIGKILL after a
grace period) together with its workers, whatever happens in the scenario.
"""

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from config.serving import web_command, web_workers

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "bench.server.settings"
HOST = "127.0.0.1"
STARTUP_SECONDS = 60
STOP_SECONDS = 15
LOG = Path(tempfile.gettempdir()) / "bench-web-server.log"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def pids(self) -> list[int]:
        """The server process and its workers (children), for their memory."""
        found = [self.process.pid]
        for pid in found:
            children = Path(f"/proc/{pid}/task/{pid}/children")
            if children.exists():
                found += [int(child) for child in children.read_text().split()]
        return found

    def rss_bytes(self) -> int:
        """Resident memory of the server and all its workers."""
        return sum(_rss(pid) for pid in self.pids())


def server_label(server: str, workers: int | None = None) -> str:
    """What a row measured: which web server, how many processes."""
    n = workers or web_workers()
    if server == "daphne":
        return f"Daphne, {n} processes, a socket each (WEB_SERVER=daphne)"
    return f"uvicorn, {n} workers (WEB_SERVER=uvicorn, the default)"


def _rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the web server exited with {server.process.returncode}; {LOG}")
        try:
            # The URL is ours: http on the loopback.
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the web server did not answer within {STARTUP_SECONDS} s; {LOG}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Workers left behind by a parent that died first.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def serving(
    argv: Sequence[str] | None = None,
    *,
    workers: int | None = None,
    server: str | None = None,
    **env: str,
) -> Iterator[Server]:
    """A running server: `argv` (with `{port}` filled in), else production's web command
    under `server` (else WEB_SERVER's)."""
    port = free_port()
    command = [part.format(port=port) for part in argv] if argv else None
    command = command or web_command(HOST, port, workers=workers, server=server)
    # PORT: the app's own origin, the only one whose pages may open the socket, is on it.
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "PORT": str(port), **env}
    with LOG.open("a") as log:
        process = subprocess.Popen(  # noqa: S603 (the argv is ours, not input)
            command,
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with all its workers
        )
    try:
        server = Server(process, port)
        _wait_until_ready(server)
        yield server
    finally:
        _stop(process)
