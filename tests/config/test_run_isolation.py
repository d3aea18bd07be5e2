"""Two test runs on one machine take different Redis and PostgreSQL test databases, so one
run's flushes and drops never reach the other's data."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PRINT_CHOICE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.REDIS_URL); print(s.DATABASES['default']['TEST']['NAME'])"
)


def another_run_starts() -> list[str]:
    """What a second run, started now beside this one, would use."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TEST_RUN_SLOT", "REDIS_URL", "DATABASE_URL"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    result = subprocess.run(
        [sys.executable, "-c", PRINT_CHOICE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def test_a_second_run_beside_this_one_takes_its_own_redis_and_test_database() -> None:
    first = another_run_starts()
    second = another_run_starts()

    mine = {settings.REDIS_URL, settings.DATABASES["default"]["NAME"]}
    assert len(first) == len(second) == 2
    assert not mine & set(first)
    # Each run's slot is given back when it ends, so a later run may take the same one again;
    # while this run lives its own slot is never handed out.
    assert first[0].startswith("redis://127.0.0.1:6379/")
    assert first[1].startswith("test_habits_")
