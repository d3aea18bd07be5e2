"""The web process: one command for `make run`, compose, the bench and the end-to-end tests.

uvicorn with `WEB_WORKERS` processes sharing one port serves HTTP (through the WSGI handler,
see asgi.py) and `/ws/` (Channels). A socket's events reach it from any process through the
Redis channel layer, so a user's sockets may live in different workers.
"""

import os
import sys

# Two CPUs measured best with three workers: one more than the cores keeps both busy while
# a worker waits on PostgreSQL or Redis (docs/PERFORMANCE.md, the serving layout).
DEFAULT_WORKERS = 3
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
