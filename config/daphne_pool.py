"""`WEB_SERVER=daphne`: several Daphne processes sharing one listening socket.

    python -m config.daphne_pool HOST PORT WORKERS -- python -m daphne --fd {fd} ... APP

Daphne has no workers of its own, so this process does what uvicorn's supervisor does: it
binds HOST:PORT once, then starts WORKERS copies of the Daphne command, each inheriting the
socket and adopting it with `--fd` (Twisted's adopted stream port). Every child waits on the
same socket and the kernel hands each new connection to the one that accepts it first; no
port is bound twice and no child can miss the address. The command itself (flags and all)
is built by config/serving.py, beside uvicorn's.

It stays their parent, in their process group (a supervisor's killpg reaches all of them):
SIGTERM or SIGINT is passed on to each and it exits once they have. A child that dies later
is started again, as uvicorn restarts a dead worker; one that dies within its first
seconds (an import error, a bad setting) stops the pool instead, so the failure is seen
rather than looped on.
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


def listen(host: str, port: int) -> socket.socket:
    """The one listening socket, bound as uvicorn binds it (SO_REUSEADDR), on HOST's first
    IPv4 address: Daphne's `fd:` endpoint adopts a socket as AF_INET and takes no other."""
    found = socket.getaddrinfo(
        host, port, family=socket.AF_INET, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    family, kind, proto, _, address = found[0]
    server = socket.socket(family, kind, proto)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(address)
    server.listen(BACKLOG)
    return server


@dataclass
class Pool:
    command: list[str]  # with "{fd}" where the socket's number goes
    workers: int
    fd: int
    children: list[subprocess.Popen] = field(default_factory=list)
    started: dict[int, float] = field(default_factory=dict)
    stopping: int | None = None  # the signal received, once one is

    def spawn(self) -> subprocess.Popen:
        argv = [part.replace("{fd}", str(self.fd)) for part in self.command]
        # The argv is config/serving.py's; the child keeps our process group and output.
        child = subprocess.Popen(argv, pass_fds=(self.fd,))  # noqa: S603
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
        self.children = [self.spawn() for _ in range(self.workers)]
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
        """Start a new child for each one that died; the exit code of one that died at
        start (the pool then stops), else None."""
        for n, child in enumerate(self.children):
            code = child.poll()
            if code is None or self.stopping is not None:
                continue
            lived = time.monotonic() - self.started.pop(child.pid)
            if lived < STARTUP_SECONDS:
                print(
                    f"daphne (pid {child.pid}) exited with {code} {lived:.1f} s after its "
                    "start: stopping the others.",
                    file=sys.stderr,
                )
                return code or 1
            print(f"daphne (pid {child.pid}) exited with {code}: another starts.", file=sys.stderr)
            self.children[n] = self.spawn()
        return None

    def _wait(self) -> None:
        for child in self.children:
            child.wait()


def main(argv: list[str]) -> int:
    if len(argv) < 5 or argv[3] != "--" or "{fd}" not in argv[4:]:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return os.EX_USAGE
    host, port, workers, _, *command = argv
    try:
        server = listen(host, int(port))
    except socket.gaierror:
        print(f"WEB_SERVER=daphne serves IPv4 only: HOST {host} has none.", file=sys.stderr)
        return os.EX_CONFIG
    return Pool(command, int(workers), server.fileno()).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
