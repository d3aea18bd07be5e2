"""The web server's processes each listen on a socket of their own (config/web_pool.py), so
a burst of new connections is shared between them rather than taken by the first awake."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

from config import web_pool
from config.web_pool import STARTUP_SECONDS, Pool, listen
from tests.system.harness import accepted, children, free_port, start_web, wait_until

ROOT = Path(__file__).resolve().parents[2]
BURST = 64
# Each of two processes takes about half; either taking fewer than this has a chance of about
# 2.4e-5 by the kernel's hash, and is what one socket shared by both gave whenever one woke
# first (64 to 0).
AT_LEAST = 16


def test_a_burst_of_connections_is_shared_by_both_workers_and_each_is_answered():
    port = free_port()
    server = start_web(port)
    connections: list[socket.socket] = []
    try:
        wait_until(lambda: len(children(server.pid)) == 2, 60, "two workers started")
        workers = children(server.pid)
        # At once, as a proxy opening its pool or a load test does (the workers may still be
        # starting: the kernel queues the connections on their sockets).
        deadline = time.monotonic() + 30
        while not connections and time.monotonic() < deadline:
            try:
                connections.append(socket.create_connection(("127.0.0.1", port), timeout=30))
            except ConnectionRefusedError:  # the pool has not bound the port yet
                time.sleep(0.1)
        connections += [
            socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(BURST - 1)
        ]
        taken_by = [accepted(workers, port, c.getsockname()[1], 60) for c in connections]

        counts = {worker: taken_by.count(worker) for worker in workers}
        assert min(counts.values()) >= AT_LEAST, counts
        for connection in connections:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for connection in connections:
            assert connection.recv(64).startswith(b"HTTP/1.1 ")
    finally:
        for connection in connections:
            connection.close()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_the_pool_binds_one_socket_a_worker_on_one_port():
    sockets = listen("127.0.0.1", 0, 3)
    try:
        ports = {server.getsockname()[1] for server in sockets}
        assert len(sockets) == 3
        assert len(ports) == 1
        assert all(server.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for server in sockets)
    finally:
        for server in sockets:
            server.close()


def _pool(port: int, child: str, *extra: str) -> subprocess.Popen:
    """The pool on 127.0.0.1:`port` with two children running `child` (Python)."""
    command = [sys.executable, "-m", "config.web_pool", "127.0.0.1", str(port), "2", "--"]
    return subprocess.Popen(
        [*command, sys.executable, "-c", child, "{fd}", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


# A child that writes READY once it listens for signals, then each signal it gets, to the
# file named by its second argument, and ends on SIGTERM.
RECORDING = """
import signal, sys, time
def write(word):
    with open(sys.argv[2], "a") as out:
        out.write(word + " ")
def record(signum, _frame):
    write(signal.Signals(signum).name)
    if signum == signal.SIGTERM:
        sys.exit(0)
signal.signal(signal.SIGTERM, record)
signal.signal(signal.SIGINT, record)
write("READY")
while True:
    time.sleep(0.1)
"""


def test_a_port_another_server_holds_is_refused_in_one_line():
    port = free_port()
    # A server left running on the port with SO_REUSEPORT, which the kernel would otherwise
    # let the pool join.
    left = socket.socket()
    left.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    left.bind(("127.0.0.1", port))
    left.listen()
    try:
        pool = _pool(port, "import time; time.sleep(60)")
        _, err = pool.communicate(timeout=30)
    finally:
        left.close()
    assert pool.returncode == os.EX_CONFIG
    assert err.strip() == f"The web server cannot listen on 127.0.0.1:{port}: the port is in use."


def test_a_stop_reaches_each_child_as_sigterm_and_the_pool_exits_after_them(tmp_path):
    record = tmp_path / "signals"
    pool = _pool(free_port(), RECORDING, str(record))
    try:
        wait_until(lambda: _words(record).count("READY") == 2, 30, "two children listening")
        os.kill(pool.pid, signal.SIGINT)  # to the pool alone, as a supervisor's Ctrl-C
        pool.wait(timeout=30)
    finally:
        with suppress(ProcessLookupError):  # none left, as it should be
            os.killpg(pool.pid, signal.SIGKILL)
    # Each child stopped gracefully (SIGTERM), none was interrupted twice.
    assert _words(record) == ["READY", "READY", "SIGTERM", "SIGTERM"]
    assert pool.returncode == 0


def test_children_stop_when_the_pool_is_killed():
    pool = _pool(free_port(), "import time; time.sleep(60)")
    try:
        wait_until(lambda: len(children(pool.pid)) == 2, 30, "two children started")
        started = children(pool.pid)
        os.kill(pool.pid, signal.SIGKILL)  # the pool crashes; nobody signals the children
        pool.wait(timeout=30)
        wait_until(lambda: not any(_running(child) for child in started), 10,
                   "the children gone with their pool")  # fmt: skip
    finally:
        with suppress(ProcessLookupError):  # none left, as it should be
            os.killpg(pool.pid, signal.SIGKILL)


def _words(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for a parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_stop_while_a_dead_child_is_being_replaced_starts_no_new_one(monkeypatch):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pool = Pool(command=[sys.executable, "-c", "import time; time.sleep(60)", "{fd}"], fds=[0])
    pool.children = [dead]
    pool.started[dead.pid] = time.monotonic() - STARTUP_SECONDS - 1  # it had run a while

    def stop_meanwhile(*_args: object, **_kwargs: object) -> None:
        pool.stop(signal.SIGTERM)  # as if the signal came while the pool said so

    monkeypatch.setattr(web_pool, "print", stop_meanwhile, raising=False)
    assert pool._replace_the_dead() is None
    assert pool.children == [dead]  # no child started after the stop, none left unsignalled
