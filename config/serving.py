"""The web process: one command for `make run`, compose, the bench and the end-to-end tests.

uvicorn with `WEB_WORKERS` processes sharing one port serves HTTP (through the WSGI handler,
see asgi.py) and `/ws/` (Channels). A socket's events reach it from any process through the
Redis channel layer, so a user's sockets may live in different workers.
"""

import os
import sys

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
        # The client address is read from X-Forwarded-For by config.requests with
        # TRUSTED_PROXY_COUNT; uvicorn must not rewrite it first.
        "--no-proxy-headers",
        "--lifespan",
        "off",
        "--timeout-graceful-shutdown",
        str(GRACEFUL_SECONDS),
    ]


def main() -> None:
    """`python -m config.serving`: the web server alone on HOST:PORT (compose's web)."""
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
    command = web_command(host, port)
    os.execv(command[0], command)  # noqa: S606 (the argv is ours, not input)


if __name__ == "__main__":
    main()
