"""Scenario: importing a Loop Habit Tracker CSV zip of 50,000 check-marks (50 habits x 1,000
days, done, failed and skipped days, a note on some) into an empty account, as the worker
runs it: the file read, 50 habits and 50,000 instances written in one transaction. Then the
same file again, which finds every day there and writes nothing.
"""

import csv
import io
import zipfile
from datetime import date, timedelta

from django.utils import timezone

from accounts.models import User
from accounts.timezones import local_today
from bench import data, sql
from bench.report import Result, Row, seconds
from bench.today import PASSWORD, TIMEZONE

NAME = "imports"
HABITS = 50
DAYS = 1_000
BUDGET = 5.0
HEADER = [
    "Position", "Name", "Type", "Question", "Description", "FrequencyNumerator",
    "FrequencyDenominator", "Color", "Unit", "Target Type", "Target Value", "Archived?",
]  # fmt: skip
VALUES = ("YES_MANUAL", "YES_MANUAL", "YES_MANUAL", "NO", "SKIP")


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def loop_zip(habits: int, days: int, last: date) -> bytes:
    """Loop's current CSV layout (the per-habit folders; Loop's root files are not read)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        listed = [HEADER]
        for n in range(1, habits + 1):
            listed.append([f"{n:03d}", f"habit {n}", "YES_NO", "", "", "1", "1", "#37474F",
                           "", "AT_LEAST", "0", "false"])  # fmt: skip
            marks = [["Date", "Value", "Notes"]] + [
                [(last - timedelta(days=d)).isoformat(), VALUES[(n + d) % 5],
                 "felt good" if (n + d) % 7 == 0 else ""]
                for d in range(days)
            ]  # fmt: skip
            archive.writestr(f"{n:03d} habit {n}/Checkmarks.csv", _csv(marks))
        archive.writestr("Habits.csv", _csv(listed))
    return buffer.getvalue()


def _timed_import(user: User, content: bytes) -> tuple[float, object]:
    from transfer.services import import_create, import_run

    job = import_create(user=user, data=content, queue=False)
    return sql.timed(lambda: import_run(job_id=job.pk))


def run(scale: float) -> Result:
    days = max(10, round(DAYS * scale))
    data.reset()
    user = User.objects.create_user("import@example.com", PASSWORD, timezone=TIMEZONE)
    content = loop_zip(HABITS, days, local_today(TIMEZONE, timezone.now()) - timedelta(days=1))
    marks = HABITS * days
    elapsed, job = _timed_import(user, content)
    if job is None or job.status != "finished" or job.instances_created != marks:
        raise RuntimeError(f"the import ended {job and job.status}: {job and job.error}")
    again, second = _timed_import(user, content)
    if second is None or second.instances_created != 0 or second.days_existing != marks:
        raise RuntimeError("the second import of the same file wrote something")
    size = f"{len(content) / 1024:.0f} kB zip"
    return Result(
        [
            Row(
                NAME,
                f"Loop CSV zip, {HABITS} habits x {days} days ({marks} check-marks, "
                f"{size}), into an empty account",
                seconds(elapsed),
                f"< {seconds(BUDGET)}",
                elapsed < BUDGET,
            ),
            Row(NAME, "the same file again (every day there: nothing written)", seconds(again)),
        ]
    )
