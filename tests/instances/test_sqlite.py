"""A single instance's change on the embedded SQLite too (`make run`'s default): completion,
skip, note and the course, a habit's edit, and the webhooks they owe, whose one-statement
insert and the change's one probe read are written for each database. The same tests, run by
a pytest of their own on a SQLite test database (the suite's database is PostgreSQL, chosen
once per run)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHANGE_TESTS = [
    "tests/instances/test_completion.py",
    "tests/instances/test_skips.py",
    "tests/instances/test_notes.py",
    "tests/instances/test_program.py",
    "tests/webhooks/test_delivery.py",
    # No edit expires an occurrence at once (the portable generation's `fresh`).
    "tests/instances/test_generation.py::test_an_edit_never_brings_an_occurrence_already_over",
    "tests/instances/test_generation.py::"
    "test_a_time_already_over_holds_from_tomorrow_and_one_still_open_moves_today",
    # Nor a move, nor beat's later run over a day a change left out (`planned_from`).
    "tests/instances/test_generation.py::test_a_timezone_change_skips_for_travel_what_it_puts_in_the_past",
    "tests/instances/test_generation.py::test_a_trip_there_and_back_fails_nothing",
    "tests/instances/test_generation.py::"
    "test_beat_plans_no_failure_for_a_habit_made_after_its_time_in_a_new_zone",
    # A skip of the last occurrence stretches the course onto a day already planned.
    "tests/instances/test_course.py::"
    "test_skipping_the_last_occurrence_stretches_the_course_onto_a_day_already_planned",
    "tests/instances/test_course.py::test_undoing_the_skip_shrinks_the_course_back",
    # It fails unless the run's database is the one DATABASE_URL asks for.
    "tests/calendars/test_feed.py::test_the_tests_run_on_the_database_asked_for",
]


def test_the_single_change_tests_pass_on_sqlite(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'changes.sqlite3'}"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not system",
         *CHANGE_TESTS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    # Every test ran (none skipped), among them the one checking the vendor.
    assert re.search(r"^\d+ passed(, \d+ deselected)? in ", run.stdout, re.MULTILINE), run.stdout
