"""The Loop Habit Tracker CSV zip (SPEC §9), read back with `zipfile` and `csv` as a person's
tools would: the layout exactly, newest first, values, and the app's own strength scores."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from instances.models import SkipReason
from instances.stats import habit_stats, strength
from tests.factories import HabitFactory, UserFactory, make_instance
from transfer.loop_export import export_loop_csv, folder_name, spreadsheet_safe

pytestmark = pytest.mark.django_db

D0 = date(2026, 5, 4)
TODAY = D0 + timedelta(days=12)
HABITS_HEADER = [
    "Position", "Name", "Type", "Question", "Description", "FrequencyNumerator",
    "FrequencyDenominator", "Color", "Unit", "Target Type", "Target Value", "Archived?",
]  # fmt: skip
C, CL, M, FE, K, P = "completed", "completed_late", "missed", "fix_expired", "skipped", "pending"
# Habit one's days D0..D8: every status, then nothing on D9.. (a gap Loop calls UNKNOWN).
HISTORY = [C, C, M, CL, K, FE, C, C, P]
NOTES = {0: "=SUM(A1:A9)", 2: "ran, then rain", 3: "-5 km", 4: "@home", 6: "+1 rep"}
RESOLVED = (C, CL, M, FE)
HOSTILE = 'read / write: "notes"?*<>|\\'


def _at(on: date) -> datetime:
    return datetime(on.year, on.month, on.day, 8, tzinfo=UTC)


@pytest.fixture
def owner(db):
    return UserFactory(timezone="UTC")


@pytest.fixture
def habits(owner) -> list:
    one = HabitFactory(user=owner, action="Meditate, daily", place="", start_date=D0)
    for n, status in enumerate(HISTORY):
        on = D0 + timedelta(days=n)
        extra = {"skip_reason": SkipReason.SICK} if status == K else {}
        make_instance(one, on, _at(on), status=status, note=NOTES.get(n, ""), **extra)
    two = HabitFactory(user=owner, action=HOSTILE, place="desk", periodicity_days=2, start_date=D0)
    for n, status in ((4, C), (6, M), (8, C)):
        on = D0 + timedelta(days=n)
        make_instance(two, on, _at(on), status=status)
    three = HabitFactory(user=owner, action="=cmd|' /C calc'!A0", is_active=False, start_date=D0)
    other = HabitFactory(action="someone else's")
    make_instance(other, D0 - timedelta(days=30), _at(D0 - timedelta(days=30)), status=C)
    return [one, two, three]


def _open(owner) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(export_loop_csv(owner, today=TODAY)))


def _rows(archive: zipfile.ZipFile, name: str) -> list[list[str]]:
    text = archive.read(name).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def _newest_first(first: date, last: date) -> list[str]:
    return [(last - timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def test_the_files_are_named_as_loop_names_them(owner, habits):
    archive = _open(owner)

    folders = ["001 Meditate, daily", "002 read _ write_ _notes_", "003 =cmd_' _C calc'!A0"]
    assert sorted(archive.namelist()) == sorted(
        ["Habits.csv", "Checkmarks.csv", "Scores.csv"]
        + [f"{f}/{n}" for f in folders for n in ("Checkmarks.csv", "Scores.csv")]
    )


def test_habits_csv_has_loops_header_and_one_row_per_habit(owner, habits):
    rows = _rows(_open(owner), "Habits.csv")

    assert rows[0] == HABITS_HEADER
    assert rows[1] == [
        "001", "Meditate, daily", "YES_NO", "", "08:00", "1", "1", rows[1][7], "", "", "", "false",
    ]  # fmt: skip
    assert rows[2][:7] == ["002", HOSTILE, "YES_NO", "", "08:00 @ desk", "1", "2"]
    assert rows[3][1] == "'=cmd|' /C calc'!A0"  # shown as text in a spreadsheet, never run
    assert rows[3][11] == "true"  # a habit no longer active is archived
    for row in rows[1:]:
        assert len(row) == 12
        assert len(row[7]) == 7
        assert row[7] == f"#{int(row[7][1:], 16):06X}"


def test_a_habits_checkmarks_are_its_instances_newest_first(owner, habits):
    rows = _rows(_open(owner), "001 Meditate, daily/Checkmarks.csv")

    assert rows[0] == ["Date", "Value", "Notes"]
    expected_values = ["YES_MANUAL", "YES_MANUAL", "NO", "YES_MANUAL", "SKIP", "NO"]
    expected_values += ["YES_MANUAL", "YES_MANUAL", "UNKNOWN"]
    expected = [
        [(D0 + timedelta(days=n)).isoformat(), value, spreadsheet_safe(NOTES.get(n, ""))]
        for n, value in enumerate(expected_values)
    ]
    assert rows[1:] == expected[::-1]
    notes = [row[2] for row in rows[1:]]
    assert {"'=SUM(A1:A9)", "'-5 km", "'@home", "'+1 rep", "ran, then rain"} < set(notes)


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_scores_are_the_apps_strength_day_by_day(owner, habits, monkeypatch, vendor):
    monkeypatch.setattr(type(connection), "vendor", vendor, raising=False)
    archive = _open(owner)
    one, two, _ = habits

    for folder, habit, statuses in (
        ("001 Meditate, daily", one, dict(enumerate(HISTORY))),
        ("002 read _ write_ _notes_", two, {4: C, 6: M, 8: C}),
    ):
        rows = _rows(archive, f"{folder}/Scores.csv")
        assert rows[0] == ["Date", "Score"]
        first = D0 + timedelta(days=min(statuses))
        assert [r[0] for r in rows[1:]] == _newest_first(first, TODAY)
        for date_text, score in rows[1:]:
            upto = (date.fromisoformat(date_text) - D0).days
            # the stats' rule: the resolved occurrences in date order (skips and open ones wait)
            history = [s for n, s in sorted(statuses.items()) if n <= upto and s in RESOLVED]
            assert score == f"{strength(history, habit.periodicity_days):.4f}"
        assert rows[1][1] == f"{habit_stats(habit.pk)['score']:.4f}"  # today: the stats' score
        assert float(rows[1][1]) > 0


def test_the_root_files_have_a_column_per_habit_and_a_trailing_comma(owner, habits):
    archive = _open(owner)
    header = 'Date,"Meditate, daily","read / write: ""notes""?*<>|\\",\'=cmd|\' /C calc\'!A0,'
    dates = _newest_first(D0, TODAY)

    for name in ("Checkmarks.csv", "Scores.csv"):
        lines = archive.read(name).decode("utf-8").split("\n")
        assert lines[0] == header
        assert lines[-1] == ""  # LF after the last row, and no CR anywhere (Loop's files)
        assert all(line.endswith(",") for line in lines[:-1])
        rows = list(csv.reader(io.StringIO("\n".join(lines), newline="")))
        assert [r[0] for r in rows[1:]] == dates
        assert all(len(r) == 5 and r[4] == "" for r in rows)
    checkmarks = {r[0]: r[1:4] for r in _rows(archive, "Checkmarks.csv")[1:]}
    assert checkmarks[D0.isoformat()] == ["YES_MANUAL", "UNKNOWN", "UNKNOWN"]
    assert checkmarks[(D0 + timedelta(days=4)).isoformat()] == ["SKIP", "YES_MANUAL", "UNKNOWN"]
    assert checkmarks[(D0 + timedelta(days=6)).isoformat()] == ["YES_MANUAL", "NO", "UNKNOWN"]
    assert checkmarks[TODAY.isoformat()] == ["UNKNOWN", "UNKNOWN", "UNKNOWN"]
    scores = _rows(archive, "Scores.csv")
    per_habit = _rows(archive, "001 Meditate, daily/Scores.csv")
    assert [r[1] for r in scores[1 : len(per_habit)]] == [r[1] for r in per_habit[1:]]
    assert {r[3] for r in scores[1:]} == {"0.0000"}  # no history: no strength
    assert scores[-1][2] == "0.0000"  # before its first occurrence


def test_hostile_names_extract_inside_the_target_folder(owner, habits, tmp_path: Path):
    HabitFactory(user=owner, action="../../etc/passwd", start_date=D0)
    HabitFactory(user=owner, action="...", start_date=D0)
    archive = _open(owner)

    archive.extractall(tmp_path)

    extracted = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.csv"))
    assert len(extracted) == 3 + 2 * 5
    assert "004 .._.._etc_passwd/Checkmarks.csv" in extracted
    assert "005/Scores.csv" in extracted
    assert all(p.resolve().is_relative_to(tmp_path.resolve()) for p in tmp_path.rglob("*"))


def test_folder_names_and_formula_cells_on_their_own():
    assert folder_name(7, 'a/b\\c:d*e?f"g<h>i|j') == "007 a_b_c_d_e_f_g_h_i_j"
    assert folder_name(12, "tab\there\nnew") == "012 tab_here_new"
    assert folder_name(1, "x" * 300) == "001 " + "x" * 100
    assert folder_name(3, "ends with dots. . .") == "003 ends with dots"
    assert folder_name(123, "Привет 🌱") == "123 Привет 🌱"
    for text in ("=1+1", "+1", "-1", "@SUM(1)", "\t=1", "\r=1"):
        assert spreadsheet_safe(text) == "'" + text
    for text in ("", "plain", "1-2", " =not first"):
        assert spreadsheet_safe(text) == text


def test_an_account_without_history_exports_one_day_of_zeros(owner):
    HabitFactory(user=owner, action="new", start_date=TODAY)
    archive = _open(owner)

    assert _rows(archive, "001 new/Checkmarks.csv") == [["Date", "Value", "Notes"]]
    assert _rows(archive, "001 new/Scores.csv") == [
        ["Date", "Score"],
        [TODAY.isoformat(), "0.0000"],
    ]
    assert archive.read("Checkmarks.csv").decode() == f"Date,new,\n{TODAY},UNKNOWN,\n"


def test_two_queries_whatever_the_history(owner, habits):
    with CaptureQueriesContext(connection) as few:
        export_loop_csv(owner, today=TODAY)
    for n in range(3):
        habit = HabitFactory(user=owner, start_date=D0)
        make_instance(habit, D0 + timedelta(days=n), _at(D0 + timedelta(days=n)), status=C)
    with CaptureQueriesContext(connection) as more:
        export_loop_csv(owner, today=TODAY)

    assert len(few) == len(more) == 2  # the habits, then every instance's day
