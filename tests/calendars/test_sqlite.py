"""The feed on the embedded SQLite too: the same tests, run by a pytest of their own on a
SQLite test database (the suite's database is PostgreSQL, chosen once per run)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FEED_TESTS = ["tests/calendars/test_feed.py", "tests/calendars/test_race.py"]


def test_the_feed_tests_pass_on_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'feed.sqlite3'}"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FEED_TESTS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    # Every test ran (none deselected or skipped), among them the one checking the vendor.
    assert re.search(r"^\d+ passed in ", run.stdout, re.MULTILINE), run.stdout
