"""The web process: one command for `make run`, compose, the bench and the end-to-end tests.

`WEB_WORKERS` processes on one port serve HTTP (through the WSGI handler, see asgi.py) and
`/ws/` (Channels): uvicorn workers by default, or with `WEB_SERVER=daphne` Daphne processes,
each on a socket of its own bound by config/web_pool.py. A socket's events reach it
from any process through the Redis channel layer, so a user's sockets may live in different
workers.
"""

import ipaddress
import os
import resource
import sys
from typing import NoReturn

# One worker per CPU this process may use: with HTTP bridged in one hop each way
# (config/http_bridge.py) a worker keeps its CPU busy by itself, and a third worker on two
# CPUs only lengthened the p99 (docs/PERFORMANCE.md, the serving layout). At most four: each
# worker holds WEB_THREADS + 1 PostgreSQL connections, and a big host's CPU count is no
# container's quota.
MAX_DEFAULT_WORKERS = 4
DEFAULT_WORKERS = min(len(os.sched_getaffinity(0)), MAX_DEFAULT_WORKERS)
# On SIGTERM open sockets are closed (1012) and requests under way get this long to finish.
GRACEFUL_SECONDS = 5
# The default should be the faster: `python -m bench --only rest` / `--only sockets` measure
# both side by side (docs/PERFORMANCE.md). Daphne is the server the design names.
WEB_SERVERS = ("uvicorn", "daphne")
DEFAULT_WEB_SERVER = WEB_SERVERS[0]


def raise_file_limit() -> int:
    """Raise this process's open-file limit (RLIMIT_NOFILE) from its soft value to the hard
    one, and return it. Every open socket is a file descriptor: 10,000 sockets across the
    workers would pass the common soft default of 1,024. Called before the server starts,
    so the pool's server processes (config/web_pool.py) inherit it; the hard limit itself
    is the host's to raise (`ulimit -Hn`, systemd's LimitNOFILE, compose's ulimits)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft


def web_workers() -> int:
    return int(os.environ.get("WEB_WORKERS", str(DEFAULT_WORKERS)))


def web_server() -> str:
    return os.environ.get("WEB_SERVER", "").strip() or DEFAULT_WEB_SERVER


def web_server_refusal() -> str | None:
    """One line naming WEB_SERVER when it names no server we run; None when it is fine."""
    if web_server() in WEB_SERVERS:
        return None
    return (
        f"WEB_SERVER is {web_server()!r}: it takes uvicorn (the default) or daphne "
        "(README, the web server)."
    )


def web_command(
    host: str, port: str | int, *, workers: int | None = None, server: str | None = None
) -> list[str]:
    """argv of the web server on `host:port`: `server` (else WEB_SERVER) with `workers`
    (else WEB_WORKERS) processes."""
    server = server or web_server()
    workers = workers or web_workers()
    if server == "uvicorn":
        return _uvicorn(host, port, workers)
    if server == "daphne":
        return _daphne(host, port, workers)
    raise ValueError(f"no web server named {server!r}: {', '.join(WEB_SERVERS)}")


def _uvicorn(host: str, port: str | int, workers: int) -> list[str]:
    """config/web_pool.py binds `workers` sockets on `host:port` and starts one uvicorn
    worker (config/uvicorn_worker.py, with `uvicorn_options`) on each."""
    worker = [sys.executable, "-m", "config.uvicorn_worker", "{fd}"]
    return [sys.executable, "-m", "config.web_pool", host, str(port), str(workers), "--", *worker]


def uvicorn_options() -> dict[str, object]:
    """uvicorn's settings for each worker (config/uvicorn_worker.py)."""
    from django.conf import settings  # read lazily: importing this module needs no settings

    return {
        # Per-request log lines cost more than the requests; errors are still logged.
        "access_log": False,
        # The client address is read from X-Forwarded-For by core.requests with
        # TRUSTED_PROXY_COUNT; uvicorn must not rewrite it first.
        "proxy_headers": False,
        "lifespan": "off",
        "timeout_graceful_shutdown": GRACEFUL_SECONDS,
        # uvicorn would read a frame of up to 16 MiB before the app could refuse it; the
        # server itself closes a socket sending more than our limit (1009).
        "ws_max_size": settings.WS_MAX_FRAME_BYTES,
        # No permessage-deflate: its zlib state per socket was half a socket's memory (90 KiB
        # a socket with it, 45 KiB without, docs/PERFORMANCE.md), for frames of a few hundred
        # bytes of JSON that compress to little (docs/DECISIONS.md).
        "ws_per_message_deflate": False,
    }


def _daphne(host: str, port: str | int, workers: int) -> list[str]:
    """As uvicorn's: config/web_pool.py binds `workers` sockets on `host:port` (IPv4: the
    only family Daphne's `--fd` adopts) and starts one Daphne on each."""
    from django.conf import settings  # read lazily: importing this module needs no settings

    daphne = [
        sys.executable,
        "-m",
        "daphne",
        "--fd",
        "{fd}",  # the pool fills in the inherited socket's number
        # Verbosity 0: no access log (as --no-access-log); what is logged, Daphne's lines
        # included, is Django's LOGGING either way.
        "-v",
        "0",
        # Proxy headers stay off, Daphne's default (as --no-proxy-headers): the client
        # address is read from X-Forwarded-For by core.requests with TRUSTED_PROXY_COUNT.
        # No lifespan flag: Daphne sends no lifespan events at all (as --lifespan off).
        # As --ws-max-size: a message or frame over our limit closes the socket (1009)
        # before the app reads it; Daphne's default is 1 MiB.
        "--websocket-max-message-size",
        str(settings.WS_MAX_FRAME_BYTES),
        "--websocket-max-frame-size",
        str(settings.WS_MAX_FRAME_BYTES),
        # Daphne closes every socket a day after it opened (86400 s); uvicorn never does,
        # and the dashboard's socket lives as long as its tab.
        "--websocket_timeout",
        "-1",
        # No equivalent of --timeout-graceful-shutdown: on SIGTERM Daphne cancels every
        # request and consumer under way and drops the connections at once. A request whose
        # view is running still finishes on its thread (its write commits, the process
        # waits for the thread pool), but its answer is lost; open sockets end without a
        # close frame (1006, not 1012) and the dashboard reconnects as after any drop.
        "config.asgi:application",
    ]
    return [
        sys.executable,
        "-m",
        "config.web_pool",
        "--ipv4",
        host,
        str(port),
        str(workers),
        "--",
        *daphne,
    ]


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host`; 0.0.0.0, :: and any other name cannot
    be known to be private."""
    name = host.strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure_refusal(host: str) -> str | None:
    """One line saying what to set, when serving on `host` would hand the development
    defaults to the network: their signing key is public (anyone could sign a token) and
    DEBUG shows tracebacks and settings to whoever asks. None when it is safe."""
    unsafe = [] if is_loopback(host) else _development_defaults()
    if not unsafe:
        return None
    return (
        f"Refusing to serve on {host}: {'; '.join(unsafe)}. Set SECRET_KEY and JWT_SIGNING_KEY "
        "to long random values and DEBUG=0 (or DJANGO_SETTINGS_MODULE=config.settings.prod), "
        "or serve on HOST=127.0.0.1."
    )


def _development_defaults() -> list[str]:
    from django.conf import settings  # read lazily: importing this module needs no settings

    from config.settings.base import DEV_SECRET_KEY

    found = []
    keys = [k for k in ("SECRET_KEY", "JWT_SIGNING_KEY") if getattr(settings, k) == DEV_SECRET_KEY]
    if keys:
        verb = "is" if len(keys) == 1 else "are"
        found.append(f"{' and '.join(keys)} {verb} the public development key")
    if settings.DEBUG:
        found.append("DEBUG is on")
    return found


def main() -> int:
    """`python -m config.serving`: the web server alone on HOST:PORT (compose's web)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")  # as config.asgi
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
    refusal = web_server_refusal() or exposure_refusal(host)
    if refusal:
        print(refusal, file=sys.stderr)
        return os.EX_CONFIG  # a supervisor sees that it did not start, as runbot does
    return _become_web(host, port)


def _become_web(host: str, port: str) -> NoReturn:
    """This process becomes the web server (config/web_pool.py, whichever server; same
    pid: a supervisor's signals reach it)."""
    raise_file_limit()  # kept across execv: the server and its workers hold the sockets
    command = web_command(host, port)
    os.execv(command[0], command)  # noqa: S606 (the argv is ours, not input)


if __name__ == "__main__":
    sys.exit(main())
