"""The web process: one command for `make run`, compose, the bench and the end-to-end tests.

uvicorn with `WEB_WORKERS` processes sharing one port serves HTTP (through the WSGI handler,
see asgi.py) and `/ws/` (Channels). A socket's events reach it from any process through the
Redis channel layer, so a user's sockets may live in different workers.
"""

import ipaddress
import os
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


def web_workers() -> int:
    return int(os.environ.get("WEB_WORKERS", str(DEFAULT_WORKERS)))


def web_command(host: str, port: str | int, *, workers: int | None = None) -> list[str]:
    """argv of the web server on `host:port`."""
    from django.conf import settings  # read lazily: importing this module needs no settings

    return [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers or web_workers()),
        # Per-request log lines cost more than the requests; errors are still logged.
        "--no-access-log",
        # The client address is read from X-Forwarded-For by core.requests with
        # TRUSTED_PROXY_COUNT; uvicorn must not rewrite it first.
        "--no-proxy-headers",
        "--lifespan",
        "off",
        "--timeout-graceful-shutdown",
        str(GRACEFUL_SECONDS),
        # uvicorn would read a frame of up to 16 MiB before the app could refuse it; the
        # server itself closes a socket sending more than our limit (1009).
        "--ws-max-size",
        str(settings.WS_MAX_FRAME_BYTES),
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
    refusal = exposure_refusal(host)
    if refusal:
        print(refusal, file=sys.stderr)
        return os.EX_CONFIG  # a supervisor sees that it did not start, as runbot does
    return _become_web(host, port)


def _become_web(host: str, port: str) -> NoReturn:
    """This process becomes uvicorn's (same pid: a supervisor's signals reach it)."""
    command = web_command(host, port)
    os.execv(command[0], command)  # noqa: S606 (the argv is ours, not input)


if __name__ == "__main__":
    sys.exit(main())
