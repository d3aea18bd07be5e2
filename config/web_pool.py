"""The web server's processes: WORKERS copies of one command, each on a listening socket of
its own, all bound to the same HOST:PORT (SO_REUSEPORT).

    python -m config.web_pool [--ipv4] HOST PORT WORKERS -- COMMAND ... {fd} ...

Why a socket each: processes waiting on one shared socket are all woken by a new connection
and the first awake accepts every connection queued, so a burst of them (a proxy opening its
pool, a load test's 32) could all land in one process and stay there, kept alive, while the
other sat idle. That halved a whole run's throughput in about one run of three
(docs/DECISIONS.md, "One listening socket a web process"). With SO_REUSEPORT the kernel
hands each new connection to one of the sockets by a hash of its addresses: as even as
chance makes it, whatever the processes are doing.

The pool binds the sockets and starts COMMAND once per socket, `{fd}` replaced by that
socket's number (the child inherits it): config/uvicorn_worker.py for uvicorn, Daphne's
`--fd` for Daphne (which takes IPv4 only: `--ipv4`). The command itself is built by
config/serving.py.

It stays their parent, in their process group (a supervisor's killpg reaches all of them):
SIGTERM, SIGINT, SIGHUP or SIGQUIT makes it send each a SIGTERM (their graceful stop) and
exit once they have, and a child whose pool is gone gets a SIGTERM from the kernel
(PR_SET_PDEATHSIG), so no worker outlives it on the port. A child that dies later is
started again on the same socket, which the pool holds meanwhile: the connections the kernel
queued on it wait for the new child rather than being refused. One that dies within its
first seconds (an import error, a bad setting) stops the pool instead, so the failure is
seen rather than looped on. A child that hangs without dying is not replaced (uvicorn's own
supervisor pinged its workers): docs/DECISIONS.md, "One listening socket a web process".
"""

import ctypes
import errno
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
# What stops the pool (each passed on to the children as SIGTERM, their graceful stop: a
# second SIGINT would make uvicorn drop the requests under way).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


class Refused(Exception):
    """The pool cannot serve as asked: one line for the operator."""


def family_of(host: str, *, ipv4: bool = False) -> socket.AddressFamily:
    """uvicorn's rule: IPv6 for an address with a colon, else IPv4 (a name such as localhost
    resolves to its IPv4 address, whichever family /etc/hosts lists first)."""
    return socket.AF_INET6 if ":" in host and not ipv4 else socket.AF_INET


def listen(host: str, port: int, count: int, *, ipv4: bool = False) -> list[socket.socket]:
    """`count` listening sockets on HOST's address and one port (port 0: the one the kernel
    picks for the first), each with SO_REUSEPORT, as uvicorn binds (SO_REUSEADDR).

    SO_REUSEPORT would let another process of this user with the option set (a server left
    running) join the port silently, so the port is first bound without it: taken, the pool
    refuses (Refused) as uvicorn's own bind would."""
    try:
        found = socket.getaddrinfo(
            host, port, family=family_of(host, ipv4=ipv4), type=socket.SOCK_STREAM,
            flags=socket.AI_PASSIVE,
        )  # fmt: skip
    except socket.gaierror as error:
        if ipv4:
            raise Refused(f"WEB_SERVER=daphne serves IPv4 only: HOST {host} has none.") from error
        raise Refused(f"The web server cannot serve on HOST {host}: no such address.") from error
    family, kind, proto, _, address = found[0]
    sockets: list[socket.socket] = []
    try:
        if port:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
        for _ in range(count):
            server = socket.socket(family, kind, proto)
            sockets.append(server)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            server.bind(address)
            server.listen(BACKLOG)
            address = server.getsockname()  # the others on the first one's port
    except OSError as error:
        for server in sockets:
            server.close()
        taken = error.errno == errno.EADDRINUSE
        reason = "the port is in use" if taken else error.strerror
        raise Refused(f"The web server cannot listen on {host}:{port}: {reason}.") from error
    return sockets


def _in_child(pool: int) -> None:
    """In a child before exec: the stop signals back to their defaults and let through again
    (the pool held them while starting it, and a signal mask survives exec), and SIGTERM
    when the pool dies (killed, crashed), so no worker is left serving on the port without
    it; one whose pool died before that ends at once. Linux, as SO_REUSEPORT's sharing."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if _prctl is not None and _prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        os._exit(1)
    if os.getppid() != pool:
        os._exit(1)


_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


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
        pool = os.getpid()
        child = subprocess.Popen(argv, pass_fds=(fd,), preexec_fn=lambda: _in_child(pool))  # noqa: S603
        self.started[child.pid] = time.monotonic()
        return child

    def stop(self, signum: int, _frame: object = None) -> None:
        self.stopping = signum
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    def run(self) -> int:
        for signum in STOP_SIGNALS:
            # One ignored by whoever started the pool (nohup's SIGHUP) stays ignored.
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, self.stop)
        try:
            # A stop signal is held while children start, so none is left unsignalled: one
            # that came before is handled as the block begins, and no child starts after it.
            with _signals_held():
                for fd in self.fds:
                    if self.stopping is not None:
                        break
                    self.children.append(self.spawn(fd))
            while self.stopping is None:
                time.sleep(POLL_SECONDS)
                broken = self._replace_the_dead()
                if broken is not None:
                    return broken
            return 0
        finally:
            # Whatever ended the loop (a stop, a broken start, an error of our own): no
            # child outlives the pool.
            if self.stopping is None:
                self.stop(signal.SIGTERM)
            self._wait()

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
                return 128 - code if code < 0 else code or 1  # killed: as a shell says it
            print(f"{name} (pid {child.pid}) exited with {code}: another starts.", file=sys.stderr)
            with _signals_held():
                if self.stopping is not None:
                    return None
                self.children[n] = self.spawn(self.fds[n])
        return None

    def _wait(self) -> None:
        for child in self.children:
            child.wait()


class _signals_held:
    """The stop signals held (delivered when the block ends), around starting a child."""

    def __enter__(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)

    def __exit__(self, *_exc: object) -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def main(argv: list[str]) -> int:
    ipv4 = argv[:1] == ["--ipv4"]
    argv = argv[1:] if ipv4 else argv
    if len(argv) < 5 or argv[3] != "--" or "{fd}" not in argv[4:]:
        print(USAGE, file=sys.stderr)
        return os.EX_USAGE
    host, port, workers, _, *command = argv
    try:
        if not port.isdigit() or int(port) > 65535 or not workers.isdigit() or int(workers) < 1:
            raise Refused(
                f"The web server needs a port and at least one worker: {port}, {workers}."
            )
        sockets = listen(host, int(port), int(workers), ipv4=ipv4)
    except Refused as refusal:
        print(refusal, file=sys.stderr)
        return os.EX_CONFIG
    bound = sockets[0].getsockname()
    where = f"[{bound[0]}]:{bound[1]}" if ":" in bound[0] else f"{bound[0]}:{bound[1]}"
    print(f"web pool: {len(sockets)} processes on http://{where}", file=sys.stderr, flush=True)
    return Pool(command, [server.fileno() for server in sockets]).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
