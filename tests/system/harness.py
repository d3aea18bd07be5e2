"""Infrastructure a test can break for real: a private Redis it stops and restarts, a TCP
proxy in front of PostgreSQL or RabbitMQ it cuts and restores, the Celery broker seen from
the test (either of the two), and the run command's processes.

Nothing here touches the shared PostgreSQL, Redis or RabbitMQ: the Redis is our own
`redis-server` on a free port, and the proxy only stops forwarding, it never stops the
server behind it.
"""

import asyncio
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import redis
from kombu import Connection
from redis.backoff import NoBackoff
from redis.retry import Retry

ROOT = Path(__file__).resolve().parents[2]

# redis-py 8's default Retry (ten more tries, backing off up to 1 s) spends about 3 s before
# it reports a refused connection: only waiting, for a probe whose point is that Redis is away
# or not up yet. Test clients try once; the code under test keeps its own retry rules.
TRY_ONCE = Retry(NoBackoff(), 0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def start_web(port: int, workers: int = 2, **popen: Any) -> subprocess.Popen:
    """The web side alone (`python -m config.serving`) on 127.0.0.1:`port` with `workers`
    processes and the test settings, in a session of its own (killpg stops all of it)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": str(workers),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "config.serving"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        **popen,
    )


def children(pid: int) -> list[int]:
    """The processes `pid` started (the web pool's: its server processes)."""
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in found.read_text().split()] if found.exists() else []


def holder(pids: list[int], server_port: int, client_port: int) -> int | None:
    """Which of `pids` accepted the connection from `client_port` to `server_port`: the one
    holding the server's end among its open files (None while none has accepted it yet).
    IPv4 connections only (/proc/net/tcp): the tests serve on 127.0.0.1."""
    inodes = set()
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        local, remote = (int(fields[i].rsplit(":", 1)[1], 16) for i in (1, 2))
        if (local, remote) == (server_port, client_port):
            inodes.add(f"socket:[{fields[9]}]")
    holders = [pid for pid in pids if inodes & _open_files(pid)]
    assert len(holders) <= 1, f"the connection from port {client_port} is held by {holders}"
    return holders[0] if holders else None


def _open_files(pid: int) -> set[str]:
    found = set()
    with suppress(OSError):  # the process ended meanwhile
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with suppress(OSError):  # closed meanwhile
                found.add(os.readlink(fd))
    return found


def accepted(pids: list[int], server_port: int, client_port: int, timeout: float = 30) -> int:
    """The process of `pids` that accepts the connection from `client_port`, once one has."""
    found: list[int] = []

    def taken() -> bool:
        found[:] = [pid] if (pid := holder(pids, server_port, client_port)) else []
        return bool(found)

    wait_until(taken, timeout, f"a process accepting the connection from {client_port}")
    return found[0]


# New connections a test opens to reach one chosen process: the kernel hands each to one of
# the processes' sockets (config/web_pool.py, SO_REUSEPORT) by a hash, so each misses with a
# chance of 1 - 1/n; with two processes, 64 all missing is a chance of 2^-64.
CONNECTION_TRIES = 64


def connection_to(pid: int, pids: list[int], port: int) -> http.client.HTTPConnection:
    """An open HTTP connection to 127.0.0.1:`port` that `pid`, one of the server's processes
    `pids`, accepted: new ones are opened (and the others' closed) until it takes one."""
    for _ in range(CONNECTION_TRIES):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.connect()
        if accepted(pids, port, connection.sock.getsockname()[1]) == pid:
            return connection
        connection.close()
    raise AssertionError(f"no connection reached process {pid} in {CONNECTION_TRIES} tries")


def unreachable_redis() -> redis.Redis:
    """A client of a port nothing listens on: every command fails at once."""
    return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=TRY_ONCE)


class PrivateRedis:
    """`redis-server` on a port of its own, without persistence: a restart forgets everything,
    as a Redis without AOF does in production."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(
            port=self.port, socket_timeout=2, socket_connect_timeout=2, retry=TRY_ONCE
        )

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir),
             "--logfile", str(self.workdir / "redis.log")],
        )  # fmt: skip
        wait_until(self._answers, 10, "the private redis-server answering")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the server is gone at once, as after a crash or the host's loss."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class TcpProxy:
    """A TCP proxy (to PostgreSQL, to RabbitMQ), run on an event loop in a thread of its own.

    `cut()` stops listening and resets every open connection (the database went away);
    `stall()` resets open connections and accepts new ones without ever answering (a server
    that does not respond); `restore()` forwards again.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.Server | None = None
        # Writers, not transports: a dropped StreamWriter closes its socket, and a stalled
        # connection must stay open.
        self.writers: set[asyncio.StreamWriter] = set()
        self.stalled = False

    def _call(self, make: Callable[[], object]) -> None:
        async def run() -> None:
            result = make()
            if asyncio.iscoroutine(result):
                await result

        asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10)

    def start(self) -> None:
        self.thread.start()
        self._call(self._listen)

    async def _listen(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    def _reset_all(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        if self.stalled:
            return  # held open, never answered, until a cut or restore resets it
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers.add(up_writer)
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.transport.abort()
            self.writers.discard(writer)

    def cut(self) -> None:
        def close() -> None:
            self.stalled = False
            if self.server is not None:
                self.server.close()
                self.server = None
            self._reset_all()

        self._call(close)

    def stall(self) -> None:
        def hold() -> None:
            self.stalled = True
            self._reset_all()

        self._call(hold)
        self._call(self._listen)

    def restore(self) -> None:
        def forward() -> None:
            self.stalled = False
            self._reset_all()

        self._call(forward)
        self._call(self._listen)

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


PgProxy = TcpProxy  # in front of PostgreSQL

# The machine's RabbitMQ (guest/guest, the default vhost), shared by every test run: each run
# keeps to queues and exchanges named in its own namespace (config/celery.py).
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def rabbitmq_clear(connection: Connection, names: dict[str, str]) -> None:
    """Remove a run's queue and exchanges (config/celery.py's `rabbitmq_names`) from the
    shared RabbitMQ: what a run leaves there would stay, unlike a private Redis."""
    channel = connection.default_channel
    channel.queue_delete(names["task_default_queue"])
    control = names["control_exchange"]
    for exchange in (
        names["task_default_exchange"],
        names["event_exchange"],
        f"{control}.pidbox",
        f"reply.{control}.pidbox",
    ):
        channel.exchange_delete(exchange)


class RedisBroker:
    """The private Redis as the system's broker (and its cache and channel layer)."""

    name = "redis"

    def __init__(self, server: PrivateRedis, queue: str, unacked: str) -> None:
        self.server = server
        self.url = server.url
        self.queue = queue  # kombu's list of the default queue, under the namespace
        self.unacked = unacked  # kombu's hash of delivered, unacknowledged tasks

    def kept(self) -> int:
        """Tasks the broker holds for a worker to finish: queued, or delivered and not
        acknowledged (a delivery whose worker died stays there until the visibility
        timeout puts it back in the queue)."""
        client = self.server.client()
        return client.llen(self.queue) + client.hlen(self.unacked)

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def close(self) -> None:
        pass


class RabbitBroker:
    """The machine's RabbitMQ as the system's broker, reached through a proxy the test can
    cut; the test itself looks at the queue directly, so it sees it while the system cannot.
    A RabbitMQ that does not answer fails the test: it is never skipped."""

    name = "rabbitmq"

    def __init__(self, proxy: TcpProxy, names: dict[str, str]) -> None:
        self.proxy = proxy
        self.url = f"amqp://guest:guest@127.0.0.1:{proxy.port}//"
        self.names = names
        self.queue = names["task_default_queue"]
        self.connection = Connection(RABBITMQ_URL, connect_timeout=5)
        self.connection.ensure_connection(max_retries=1)
        self._clear()  # what an earlier run with this namespace left is not this test's

    def declared(self) -> tuple[int, int]:
        """The queue's (ready messages, consumers); raises if the queue does not exist."""
        ok = self.connection.default_channel.queue_declare(self.queue, passive=True)
        return ok.message_count, ok.consumer_count

    def kept(self) -> int:
        """Tasks the broker holds for a worker: queued. A delivery to a live worker is not
        counted; one whose worker's connection dropped is queued again at once."""
        return self.declared()[0]

    def stop(self) -> None:
        self.proxy.cut()

    def start(self) -> None:
        self.proxy.restore()

    def _clear(self) -> None:
        rabbitmq_clear(self.connection, self.names)

    def close(self) -> None:
        self._clear()
        self.connection.close()


class Stack:
    """The run command's processes (config/run.py), each in a process group of its own so a
    test can stop, kill or restart one; output goes to `<workdir>/<name>.log`."""

    def __init__(self, *, workdir: Path, argv: dict[str, list[str]], env: dict[str, str]) -> None:
        self.workdir = workdir
        self.argv = argv
        self.env = env
        self.processes: dict[str, subprocess.Popen] = {}

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def log(self, name: str) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, name: str, ready: Callable[[], bool], timeout: float = 60) -> None:
        with self.log_path(name).open("a") as log:
            self.processes[name] = subprocess.Popen(
                self.argv[name],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def up() -> bool:
            assert self.processes[name].poll() is None, f"{name} exited:\n{self.log(name)}"
            return ready()

        wait_until(up, timeout, f"{name} ready")

    def alive(self, name: str) -> bool:
        return name in self.processes and self.processes[name].poll() is None

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill(self, name: str) -> None:
        """SIGKILL to the whole process group: no shutdown code runs (a crash, the OOM killer)."""
        self.stop(name, signal.SIGKILL)

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
