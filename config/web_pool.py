"""The web server's processes: WORKERS copies of one command, each on a listening socket of
its own, all bound to the same HOST:PORT (SO_REUSEPORT).

    python -m config.web_pool [--ipv4] HOST PORT WORKERS -- COMMAND ... {fd} ...

Why a socket each: processes waiting on one shared socket are all woken by a new connection
and the first awake accepts every connection queued, so a burst of them (a proxy opening its
pool, a load test's 32) could all land in one process and stay there, kept alive, while the
other sat idle. That halved a whole run's throughput in about one run of three
(docs/PERFORMANCE.md, "one worker took every connection"). With SO_REUSEPORT the kernel
hands each new connection to one of the sockets by a hash of its addresses: as even as
chance makes it, whatever the processes are doing.

The pool binds the sockets and starts COMMAND once per socket, `{fd}` replaced by that
socket's number (the child inherits it): config/uvicorn_worker.py for uvicorn, Daphne's
`--fd` for Daphne (which takes IPv4 only: `--ipv4`). The command itself is built by
config/serving.py.

It stays their parent, in their process group (a supervisor's killpg reaches all of them):
SIGTERM or SIGINT is passed on to each and it exits once they have. A child that dies later
is started again on the same socket, which the pool holds meanwhile: the connections the
kernel queued on it wait for the new child rather than being refused. One that dies within
its first seconds (an import error, a bad setting) stops the pool instead, so the failure is
seen rather than looped on.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

# As uvicorn's --backlog default: connections the kernel queues before one is accepted.
BACKLOG = 2048
# A child dying sooner than this after its start is a broken start, not a crash to heal.
STARTUP_SECONDS = 10.0
POLL_SECONDS = 0.2
USAGE = "python -m config.web_pool [--ipv4] HOST PORT WORKERS -- COMMAND ... {fd} ..."


def listen(host: str, port: int, count: int, *, ipv4: bool = False) -> list[socket.socket]:
    """`count` listening sockets on HOST's first address and one port (port 0: the one the
    kernel picks for the first), each with SO_REUSEPORT, as uvicorn binds (SO_REUSEADDR)."""
    family = socket.AF_INET if ipv4 else socket.AF_UNSPEC
    found = socket.getaddrinfo(
        host, port, family=family, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    family, kind, proto, _, address = found[0]
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            server = socket.socket(family, kind, proto)
            sockets.append(server)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            server.bind(address)
            server.listen(BACKLOG)
            address = server.getsockname()  # the others on the first one's port
    except BaseException:
        for server in sockets:
            server.close()
        raise
    return sockets


@dataclass
class Pool:
    command: list[str]  # with "{fd}" where the socket's number goes
    fds: list[int]  # one listening socket a child
    children: list[subprocess.Popen] = field(default_factory=list)
    started: dict[int, float] = field(default_factory=dict)
    stopping: int | None = None  # the signal received, once one is

    def spawn(self, fd: int) -> subprocess.Popen:
        argv = [part.replace("{fd}", str(fd)) for part in self.command]
        # The argv is config/serving.py's; the child keeps our process group and output.
        child = subprocess.Popen(argv, pass_fds=(fd,))  # noqa: S603
        self.started[child.pid] = time.monotonic()
        return child

    def stop(self, signum: int, _frame: object = None) -> None:
        self.stopping = signum
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signum)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.children = [self.spawn(fd) for fd in self.fds]
        while self.stopping is None:
            time.sleep(POLL_SECONDS)
            broken = self._replace_the_dead()
            if broken is not None:
                self.stop(signal.SIGTERM)
                self._wait()
                return broken
        self._wait()
        return 0

    def _replace_the_dead(self) -> int | None:
        """Start a new child on each dead one's socket; the exit code of one that died at
        start (the pool then stops), else None."""
        for n, child in enumerate(self.children):
            code = child.poll()
            if code is None or self.stopping is not None:
                continue
            lived = time.monotonic() - self.started.pop(child.pid)
            name = self.command[2] if self.command[1:2] == ["-m"] else self.command[0]
            if lived < STARTUP_SECONDS:
                print(
                    f"{name} (pid {child.pid}) exited with {code} {lived:.1f} s after its "
                    "start: stopping the others.",
                    file=sys.stderr,
                )
                return code or 1
            print(f"{name} (pid {child.pid}) exited with {code}: another starts.", file=sys.stderr)
            self.children[n] = self.spawn(self.fds[n])
        return None

    def _wait(self) -> None:
        for child in self.children:
            child.wait()


def main(argv: list[str]) -> int:
    ipv4 = argv[:1] == ["--ipv4"]
    argv = argv[1:] if ipv4 else argv
    if len(argv) < 5 or argv[3] != "--" or "{fd}" not in argv[4:]:
        print(USAGE, file=sys.stderr)
        return os.EX_USAGE
    host, port, workers, _, *command = argv
    try:
        sockets = listen(host, int(port), int(workers), ipv4=ipv4)
    except socket.gaierror:
        if ipv4:
            print(f"WEB_SERVER=daphne serves IPv4 only: HOST {host} has none.", file=sys.stderr)
        else:
            print(f"The web server cannot serve on HOST {host}: no such address.", file=sys.stderr)
        return os.EX_CONFIG
    return Pool(command, [server.fileno() for server in sockets]).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
