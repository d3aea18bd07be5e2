"""The web server's processes each listen on a socket of their own (config/web_pool.py), so
a burst of new connections is shared between them rather than taken by the first awake."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from config.web_pool import listen
from tests.system.harness import accepted, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
BURST = 64
# Each of two processes takes about half; fewer than this has a chance under 1e-5 by the
# kernel's hash, and is what one socket shared by both gave whenever one woke first.
AT_LEAST = 16


def _workers(pid: int) -> list[int]:
    """The server's worker processes (the pool's children)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in children.read_text().split()] if children.exists() else []


def test_a_burst_of_connections_is_shared_by_both_workers_and_each_is_answered():
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": "2",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "config.serving"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    connections: list[socket.socket] = []
    try:
        wait_until(lambda: len(_workers(server.pid)) == 2, 60, "two workers started")
        workers = _workers(server.pid)
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
