"""`make run`: the whole system in the foreground, stopped together on Ctrl-C or SIGTERM.

Refuses a non-loopback HOST with the development keys or DEBUG (one line, exit 78), checks
that Redis answers (one clear line and exit 1 if not), migrates, installs the
periodic-task schedule, then supervises the web server (uvicorn workers, or Daphne processes
with WEB_SERVER=daphne: config/serving.py), a Celery worker, Celery beat and, when its
credentials are set, the Telegram bot.

`RUN_PROCESSES` (comma-separated, default all of them) picks which: a second node of one
deployment runs `RUN_PROCESSES=web,worker` (one beat and one bot per deployment; README,
"Running many nodes").
"""

import os
import shlex
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from honcho.manager import Manager  # noqa: E402

from config.serving import (  # noqa: E402
    exposure_refusal,
    raise_file_limit,
    web_command,
    web_server_refusal,
)
from core.redis import get_redis  # noqa: E402
from telegram.credentials import MISSING, bot_credentials  # noqa: E402


def redis_answers() -> bool:
    try:
        return bool(get_redis().ping())
    except redis.RedisError:
        return False


def bot_configured() -> bool:
    return bot_credentials() is not None


# What runs before the processes start, as `manage.py` arguments: compose's migrate service
# runs the same (tests/config/test_compose.py compares them).
STARTUP_COMMANDS: tuple[tuple[str, ...], ...] = (("migrate", "--noinput"), ("setup_schedules",))


def processes(host: str, port: str) -> dict[str, list[str]]:
    python = sys.executable
    found = {
        "web": web_command(host, port),
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-l",
            "info",
            "--concurrency",
            os.environ.get("CELERY_CONCURRENCY", "2"),
        ],
        "beat": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "-l",
            "info",
            "-S",
            "django_celery_beat.schedulers:DatabaseScheduler",
        ],
    }
    if bot_configured():
        found["bot"] = [python, "manage.py", "runbot"]
    return found


KNOWN_PROCESSES = ("web", "worker", "beat", "bot")


def chosen_processes() -> tuple[set[str], str | None]:
    """The names RUN_PROCESSES asks for, or a one-line refusal naming an unknown one."""
    asked = {n.strip() for n in os.environ.get("RUN_PROCESSES", "").split(",") if n.strip()}
    unknown = sorted(asked - set(KNOWN_PROCESSES))
    if unknown:
        return set(), (
            f"RUN_PROCESSES names {', '.join(unknown)}: it takes a comma-separated choice of "
            f"{', '.join(KNOWN_PROCESSES)}."
        )
    return asked or set(KNOWN_PROCESSES), None


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    chosen, wrong = chosen_processes()
    # Before anything else: a refused start touches neither Redis nor the database.
    refusal = wrong or web_server_refusal() or exposure_refusal(host)
    if refusal:
        print(refusal, file=sys.stderr)
        return os.EX_CONFIG
    if not redis_answers():
        print(
            f"Redis does not answer at {settings.REDIS_URL}: start it (redis-server) "
            "or point REDIS_URL at a running one.",
            file=sys.stderr,
        )
        return 1
    for command in STARTUP_COMMANDS:
        call_command(*command)

    raise_file_limit()  # inherited by every process started below: the web's sockets
    manager = Manager()
    for name, argv in processes(host, port).items():
        if name in chosen:
            manager.add_process(name, shlex.join(argv))
    if "bot" in chosen and not bot_configured():
        print(MISSING)
    print(f"Serving on http://{host}:{port}/ (Ctrl-C stops everything)")
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
