"""The readers of foreign files (transfer/formats): each layout and version read exactly, and
every bad file refused with a message a person understands, never a bare exception."""

import io
import random
import sqlite3
import struct
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import pytest

from habits.models import Habit
from instances.models import NOTE_MAX_LENGTH
from tests.transfer.files import (
    LoopHabit,
    habitbull_csv,
    loop_csv_zip,
    loop_db,
    loop_ms,
    zip_of,
)
from transfer.formats import (
    DayMark,
    Imported,
    ImportedDay,
    ImportedHabit,
    ImportRefused,
    common,
    loop_csv,
)
from transfer.formats import loop_db as backup_reader
from transfer.formats.detect import OWN_JSON, detect_and_read, is_own_json

DONE, FAILED, SKIPPED = DayMark.DONE, DayMark.FAILED, DayMark.SKIPPED
D = date


def refused(data: bytes) -> str:
    with pytest.raises(ImportRefused) as caught:
        detect_and_read(data)
    return str(caught.value)


def yes_no_habits() -> list[LoopHabit]:
    """Two habits sharing a name, every yes/no value, notes with commas and quotes, an
    archived one and a habit left out of the export."""
    return [
        LoopHabit(
            "Read",
            question="Did you read?",
            description="Ten pages",
            numerator=2,
            denominator=3,
            entries=[
                (D(2024, 3, 1), 2, ""),
                (D(2024, 3, 2), 0, "Sick, really"),
                (D(2024, 3, 3), 1, "implied, dropped"),
                (D(2024, 3, 4), 3, 'A "rest" day'),
                (D(2024, 3, 5), -1, ""),
                (D(2024, 3, 6), 2, "- felt good, -5 km"),
            ],
        ),
        LoopHabit("Read", question="Again?", archived=True, entries=[(D(2023, 12, 31), 2, "")]),
        LoopHabit("Not exported", exported=False, entries=[(D(2024, 1, 1), 2, "")]),
    ]


EXPECTED_YES_NO = [
    ImportedHabit(
        name="Read",
        description="Ten pages",
        question="Did you read?",
        numerator=2,
        denominator=3,
        days=[
            ImportedDay(D(2024, 3, 1), DONE),
            ImportedDay(D(2024, 3, 2), FAILED, "Sick, really"),
            ImportedDay(D(2024, 3, 4), SKIPPED, 'A "rest" day'),
            ImportedDay(D(2024, 3, 6), DONE, "- felt good, -5 km"),
        ],
    ),
    ImportedHabit(
        name="Read", question="Again?", archived=True, days=[ImportedDay(D(2023, 12, 31), DONE)]
    ),
]


def numeric_habits() -> list[LoopHabit]:
    run = [(D(2024, 5, 1), 5500, "long"), (D(2024, 5, 2), 0, ""), (D(2024, 5, 3), 3, "")]
    run += [(D(2024, 5, 4), -1, ""), (D(2024, 5, 5), 250, "")]
    coffee = [(D(2024, 5, 1), 0, ""), (D(2024, 5, 2), 2000, ""), (D(2024, 5, 3), 3000, "")]
    return [
        LoopHabit("Run", question="How far?", numeric=True, unit="km", target=5.0, entries=run),
        LoopHabit("Coffee", numeric=True, unit="cups", target=2.0, at_most=True, entries=coffee),
    ]


EXPECTED_NUMERIC = [
    ImportedHabit(
        name="Run",
        question="How far?",
        numeric=True,
        unit="km",
        target=5.0,
        days=[
            ImportedDay(D(2024, 5, 1), DONE, "long", 5.5),
            ImportedDay(D(2024, 5, 2), FAILED, "", 0.0),
            ImportedDay(D(2024, 5, 3), SKIPPED),
            ImportedDay(D(2024, 5, 5), DONE, "", 0.25),
        ],
    ),
    ImportedHabit(
        name="Coffee",
        numeric=True,
        unit="cups",
        target=2.0,
        days=[
            ImportedDay(D(2024, 5, 1), DONE, "", 0.0),
            ImportedDay(D(2024, 5, 2), DONE, "", 2.0),
            ImportedDay(D(2024, 5, 3), FAILED, "", 3.0),
        ],
    ),
]


# Loop's CSV zip --------------------------------------------------------------------------


def test_current_layout_is_read_exactly() -> None:
    imported = detect_and_read(loop_csv_zip(yes_no_habits()))
    assert imported == Imported(format="loop-csv", habits=EXPECTED_YES_NO)
    assert imported.day_count == 5


def test_current_layout_numeric_habits_keep_amounts_and_targets() -> None:
    imported = detect_and_read(loop_csv_zip(numeric_habits()))
    assert imported == Imported(format="loop-csv", habits=EXPECTED_NUMERIC)


def test_old_layout_without_headers_and_with_codes() -> None:
    habits = yes_no_habits()
    expected = [
        ImportedHabit(**{**vars(habit), "archived": False, "days": list(habit.days)})
        for habit in EXPECTED_YES_NO
    ]
    # The old layout has no notes and no archived flag.
    for habit in expected:
        habit.days = [ImportedDay(day.date, day.mark) for day in habit.days]
    imported = detect_and_read(loop_csv_zip(habits, layout="old"))
    assert imported == Imported(format="loop-csv", habits=expected)


def test_old_layout_tells_numeric_habits_by_their_values() -> None:
    imported = detect_and_read(loop_csv_zip(numeric_habits()[:1], layout="old"))
    (run,) = imported.habits
    assert run.numeric
    # The old Habits.csv has neither unit nor target.
    assert (run.unit, run.target) == ("", None)
    assert [(d.date, d.mark, d.amount) for d in run.days] == [
        (D(2024, 5, 1), DONE, 5.5),
        (D(2024, 5, 2), FAILED, 0.0),
        (D(2024, 5, 3), SKIPPED, None),
        (D(2024, 5, 5), DONE, 0.25),
    ]


def test_oldest_layout_reads_the_description_as_the_question() -> None:
    habit = LoopHabit("Walk", question="Did you walk?", entries=[(D(2020, 2, 29), 2, "")])
    imported = detect_and_read(loop_csv_zip([habit], layout="oldest"))
    assert imported.habits == [
        ImportedHabit(
            name="Walk", question="Did you walk?", days=[ImportedDay(D(2020, 2, 29), DONE)]
        )
    ]


def test_an_export_zipped_again_inside_a_folder_is_read() -> None:
    data = loop_csv_zip(yes_no_habits(), prefix="Loop Habits CSV 2024-03-07/")
    with zipfile.ZipFile(io.BytesIO(data), "a") as archive:
        archive.writestr("__MACOSX/Loop Habits CSV 2024-03-07/._Habits.csv", "junk")
    assert detect_and_read(data).habits == EXPECTED_YES_NO


def test_a_folder_named_only_by_its_position_is_matched() -> None:
    habit = LoopHabit("瞑想 🧘", entries=[(D(2024, 1, 2), 2, "")])
    data = loop_csv_zip([habit])
    assert "001/Checkmarks.csv" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert detect_and_read(data).habits[0].name == "瞑想 🧘"


def test_a_folder_without_a_habit_row_is_refused() -> None:
    data = zip_of({"Habits.csv": "Position,Name\n", "004 Gone/Checkmarks.csv": "Date,Value\n"})
    message = refused(data)
    assert "FrequencyNumerator" in message  # the header lacks the frequency
    header = "Position,Name,FrequencyNumerator,FrequencyDenominator\n001,A,1,1\n"
    data = zip_of({"Habits.csv": header, "004 Gone/Checkmarks.csv": "Date,Value\n"})
    assert refused(data) == "The folder '004 Gone' has no habit at position 4 in Habits.csv."


def test_progress_counts_the_habits_read() -> None:
    calls: list[tuple[int, int]] = []
    detect_and_read(loop_csv_zip(yes_no_habits()), lambda done, total: calls.append((done, total)))
    assert calls == [(0, 2), (1, 2), (2, 2)]


# Loop's SQLite backup --------------------------------------------------------------------


def test_version_12_each_repetition_is_a_done_day() -> None:
    habits = [
        LoopHabit("Wake up", question="Before 6?", numerator=3, denominator=7, entries=[
            (D(2016, 1, 2), 2, ""), (D(2016, 1, 1), 2, ""),
        ]),
        LoopHabit("Wake up", archived=True, entries=[(D(2016, 2, 1), 2, "")]),
    ]  # fmt: skip
    imported = detect_and_read(loop_db(12, habits))
    assert imported == Imported(
        format="loop-db",
        habits=[
            ImportedHabit(
                name="Wake up",
                question="Before 6?",
                numerator=3,
                denominator=7,
                days=[ImportedDay(D(2016, 1, 1), DONE), ImportedDay(D(2016, 1, 2), DONE)],
            ),
            ImportedHabit(name="Wake up", archived=True, days=[ImportedDay(D(2016, 2, 1), DONE)]),
        ],
    )


@pytest.mark.parametrize("version", [16, 18, 21, 22, 23, 24])
def test_versions_with_values_read_every_mark(version: int) -> None:
    habits = yes_no_habits()[:2]
    for habit in habits:
        habit.entries = [(day, value, "") for day, value, _ in habit.entries]
        habit.description = habit.description if version >= 23 else ""
    expected = [
        ImportedHabit(**{**vars(habit), "days": [ImportedDay(d.date, d.mark) for d in habit.days]})
        for habit in EXPECTED_YES_NO
    ]
    if version < 23:
        expected[0].description = ""
    assert detect_and_read(loop_db(version, habits)) == Imported("loop-db", expected)


@pytest.mark.parametrize("version", [25, 30])
def test_latest_versions_keep_notes_question_and_numeric_habits(version: int) -> None:
    habits = yes_no_habits()[:2] + numeric_habits()
    expected = EXPECTED_YES_NO + EXPECTED_NUMERIC
    assert detect_and_read(loop_db(version, habits)) == Imported("loop-db", expected)


@pytest.mark.parametrize("version", [18, 21])
def test_numeric_habits_before_notes(version: int) -> None:
    habits = numeric_habits()
    for habit in habits:
        habit.entries = [(day, value, "") for day, value, _ in habit.entries]
    imported = detect_and_read(loop_db(version, habits))
    assert [[(d.date, d.mark, d.amount) for d in h.days] for h in imported.habits] == [
        [(d.date, d.mark, d.amount) for d in h.days] for h in EXPECTED_NUMERIC
    ]
    assert [(h.unit, h.target, h.numeric) for h in imported.habits] == [
        ("km", 5.0, True),
        ("cups", 2.0, True),
    ]


def _with_sql(data: bytes, *statements: str) -> bytes:
    """The backup changed by SQL statements (a file damaged or crafted by hand)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "x.db"
        path.write_bytes(data)
        db = sqlite3.connect(path)
        for statement in statements:
            db.execute(statement)
        db.commit()
        db.close()
        return path.read_bytes()


def test_repeated_orphan_and_empty_repetitions_are_left_out() -> None:
    data = loop_db(12, [LoopHabit("A", entries=[(D(2016, 1, 1), 2, "")])])
    ms = loop_ms(D(2016, 1, 1))
    data = _with_sql(
        data,
        f"INSERT INTO Repetitions (habit, timestamp) VALUES (1, {ms})",
        f"INSERT INTO Repetitions (habit, timestamp) VALUES (99, {ms})",
        "INSERT INTO Repetitions (habit, timestamp) VALUES (1, NULL)",
    )
    assert detect_and_read(data).habits[0].days == [ImportedDay(D(2016, 1, 1), DONE)]


def test_progress_counts_the_repetitions() -> None:
    habit = LoopHabit("A", entries=[(D(2016, 1, 1), 2, ""), (D(2016, 1, 2), 2, "")])
    calls: list[tuple[int, int]] = []
    detect_and_read(loop_db(12, [habit]), lambda done, total: calls.append((done, total)))
    assert calls == [(0, 2), (2, 2)]


@pytest.mark.parametrize("version", [0, 11])
def test_a_schema_before_12_is_refused(version: int) -> None:
    data = _with_sql(loop_db(12, [LoopHabit("A")]), f"PRAGMA user_version = {version}")
    assert f"schema version {version} is not supported" in refused(data)


def test_a_backup_missing_a_table_or_a_column_is_refused() -> None:
    data = _with_sql(loop_db(21, [LoopHabit("A")]), "DROP TABLE Repetitions")
    assert refused(data) == (
        "This Loop backup's schema version 21 is not supported: it has no Repetitions table."
    )
    data = _with_sql(loop_db(25, [LoopHabit("A")]), "ALTER TABLE Habits DROP COLUMN freq_num")
    assert "schema version 25 is not supported: its Habits table has no column freq_num" in (
        refused(data)
    )


def test_a_view_in_place_of_a_table_is_refused() -> None:
    endless = (
        "CREATE VIEW Repetitions AS WITH RECURSIVE n(habit, timestamp) AS "
        "(SELECT 1, 0 UNION ALL SELECT habit, timestamp + 1 FROM n) SELECT * FROM n"
    )
    data = _with_sql(loop_db(12, [LoopHabit("A")]), "DROP TABLE Repetitions", endless)
    assert "it has no Repetitions table" in refused(data)


def test_a_truncated_or_garbled_backup_is_refused() -> None:
    entries = [(D.fromordinal(730000 + i), 2, "") for i in range(3000)]
    data = loop_db(12, [LoopHabit("A", entries=entries)])
    assert "damaged" in refused(data[: len(data) // 2])
    assert "damaged" in refused(b"SQLite format 3\x00" + b"\x00" * 200)


def test_bad_values_in_a_backup_are_refused_naming_the_row() -> None:
    data = loop_db(21, [LoopHabit("A", entries=[(D(2020, 1, 1), 7, "")])])
    assert refused(data) == "Repetitions row 1 (habit 'A'): 7 is not a value of a yes/no habit."
    data = _with_sql(loop_db(12, [LoopHabit("A")]), "INSERT INTO Repetitions VALUES (5, 1, 'x')")
    assert refused(data) == "Repetitions row 5 (habit 'A'): the timestamp 'x' is not a date."
    data = _with_sql(loop_db(12, [LoopHabit("A")]), "UPDATE Habits SET freq_num = 0")
    assert "the frequency 0 in 1 days is not a frequency" in refused(data)


# HabitBull -------------------------------------------------------------------------------


def test_habitbull_is_read_exactly() -> None:
    data = habitbull_csv([
        ("Floss", "Every night", "Health", "2016-03-18", "1", "minty"),
        ("Pushups", "", "Fitness", "1/9/2022", "30", ""),
        ("Floss", "ignored later", "Health", "2016-03-17", "0", ""),
        ("Floss", "", "Health", "2016-03-18", "1", "a repeat keeps the first"),
        ("Pushups", "", "Fitness", "1/10/2022", "0", "lazy"),
        ("Floss", "", "Health", "2016-03-19", "-2150000000", ""),
    ])  # fmt: skip
    assert detect_and_read(data) == Imported(
        format="habitbull-csv",
        habits=[
            ImportedHabit(
                name="Floss",
                description="Every night",
                days=[
                    ImportedDay(D(2016, 3, 17), FAILED),
                    ImportedDay(D(2016, 3, 18), DONE, "minty"),
                ],
            ),
            ImportedHabit(
                name="Pushups",
                numeric=True,
                days=[
                    ImportedDay(D(2022, 1, 9), DONE, "", 30.0),
                    ImportedDay(D(2022, 1, 10), FAILED, "lazy", 0.0),
                ],
            ),
        ],
    )


def test_habitbull_bad_cells_are_refused_naming_the_line() -> None:
    row = ("Floss", "", "Health", "2016-03-18", "1", "")
    assert refused(habitbull_csv([row, (*row[:3], "18.03.2016", "1", "")])) == (
        "the HabitBull file, line 3: '18.03.2016' is not a date (YYYY-MM-DD or M/D/YYYY)."
    )
    assert refused(habitbull_csv([(*row[:4], "yes", "")])) == (
        "the HabitBull file, line 2: the value 'yes' is not a number."
    )
    assert "line 2: the row has 3 cells" in refused(habitbull_csv([row[:3]]))  # type: ignore[list-item]


# Detection by content --------------------------------------------------------------------


def test_the_content_decides_not_the_name() -> None:
    # No name reaches the readers; the same bytes give the same format whatever the upload.
    assert detect_and_read(loop_db(12, [LoopHabit("A")])).format == "loop-db"
    assert detect_and_read(loop_csv_zip([LoopHabit("A")])).format == "loop-csv"
    row = ("A", "", "", "2020-01-01", "1", "")
    assert detect_and_read(b"\xef\xbb\xbf" + habitbull_csv([row])).format == "habitbull-csv"


def test_this_apps_json_is_signalled_not_read() -> None:
    data = b' {"format": "atomic-habits", "version": 1, "habits": []}'
    assert is_own_json(data)
    assert detect_and_read(data) == Imported(format=OWN_JSON)
    assert not is_own_json(b'{"format": "other"}')
    assert "it is JSON, but not this app's export" in refused(b'{"format": "other"}')
    assert "is not valid JSON" in refused(b'{"format": "atomic-habits"')


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"Date,Value,Notes\n2020-01-01,YES_MANUAL,\n", b"\x89PNG\r\n", b"[1, 2]"],
)
def test_anything_else_is_refused(data: bytes) -> None:
    assert refused(data).startswith("This file is not a format we can import")


def test_a_zip_without_habits_csv_is_not_a_loop_export() -> None:
    data = zip_of({"notes.txt": "hello", "sub/dir/Habits.csv": "deep"})
    assert refused(data) == "This zip is not a Loop Habit Tracker export: it has no Habits.csv."


# Safety ----------------------------------------------------------------------------------


def test_too_many_entries_is_refused() -> None:
    files: dict[str, bytes | str] = {f"f{i}.txt": "" for i in range(loop_csv.MAX_ENTRIES + 1)}
    assert refused(zip_of(files)) == (
        f"The zip holds {loop_csv.MAX_ENTRIES + 1} files; at most {loop_csv.MAX_ENTRIES} are "
        "accepted."
    )


def test_a_zip_bomb_is_refused_from_its_declared_sizes() -> None:
    # 101 MB of zeros deflate to about 100 KB.
    bomb = zip_of({"Habits.csv": "", "bomb.bin": b"\x00" * (101 * 2**20)})
    assert len(bomb) < 2**20
    assert refused(bomb) == "The zip unpacks to 101 MB; at most 100 MB are accepted."


def _declare_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with `name`'s uncompressed size set to `size` in both of its headers."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo(name).header_offset
        central = archive.start_dir
    struct.pack_into("<I", out, local + 22, size)
    while out[central + 46 : central + 46 + len(name)] != name.encode():
        lengths = struct.unpack_from("<HHH", out, central + 28)
        central += 46 + sum(lengths)
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


def test_declared_sizes_that_lie_do_not_let_more_through() -> None:
    big = "Date,Value,Notes\n" + "2020-01-01,YES_MANUAL,\n" * 200_000  # 4.6 MB
    header = "Position,Name,FrequencyNumerator,FrequencyDenominator\n001,A,1,1\n"
    data = zip_of({"Habits.csv": header, "001 A/Checkmarks.csv": big})
    lying = _declare_size(data, "001 A/Checkmarks.csv", 100)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("001 A/Checkmarks.csv").file_size == 100
    # At most the declared bytes are inflated (then the checksum fails): never the 4.6 MB.
    message = refused(lying)
    assert message.startswith("The zip file is damaged: 001 A/Checkmarks.csv cannot be read")


def test_names_in_a_zip_are_only_names() -> None:
    header = "Position,Name,FrequencyNumerator,FrequencyDenominator\n001,A,1,1\n002,B,1,1\n"
    checks = "Date,Value,Notes\n2020-01-01,YES_MANUAL,\n"
    data = zip_of({"../Habits.csv": header, "/abs/Habits.csv": header})
    assert "it has no Habits.csv" in refused(data)
    data = zip_of({
        "Habits.csv": header,
        "001 A/Checkmarks.csv": checks,
        "../002 B/Checkmarks.csv": checks,
        "/002 B/Checkmarks.csv": checks,
        "001 A/../002 B/Checkmarks.csv": checks,
    })  # fmt: skip
    assert [h.name for h in detect_and_read(data).habits] == ["A"]


@pytest.mark.parametrize(
    "cell", ["=cmd|' /C calc'!A0", "+A1", "-cmd|' /C notepad'!A0", "@SUM(1,2)", "=1+1"]
)
def test_formula_like_cells_are_refused(cell: str) -> None:
    note = LoopHabit("A", entries=[(D(2024, 1, 1), 2, cell)])
    assert "Checkmarks.csv, line 2: the note" in refused(loop_csv_zip([note]))
    assert "starts like a spreadsheet formula" in refused(loop_csv_zip([note]))
    name = LoopHabit(cell)
    assert "Habits.csv, line 2 (the habit at position 1): the name" in refused(loop_csv_zip([name]))
    row = ("Floss", "", "Health", "2016-03-18", "1", cell)
    assert "the HabitBull file, line 2: the note" in refused(habitbull_csv([row]))
    assert "starts like a spreadsheet formula" in refused(loop_db(25, [name]))


@pytest.mark.parametrize("cell", ["-5 km", "+1", "- felt good", "-", "Tom@home", "1=1"])
def test_plain_text_with_signs_is_kept(cell: str) -> None:
    habit = LoopHabit("A", entries=[(D(2024, 1, 1), 2, cell)])
    assert detect_and_read(loop_csv_zip([habit])).habits[0].days[0].note == cell


def test_a_name_over_255_characters_is_refused_naming_the_habit() -> None:
    habits = [LoopHabit("A"), LoopHabit("x" * 256)]
    assert refused(loop_csv_zip(habits)) == (
        "Habits.csv, line 3 (the habit at position 2): the habit's name is 256 characters "
        "long; at most 255 are allowed."
    )
    assert refused(loop_db(25, habits)) == (
        "The backup's habit at position 2 (Habits row id 2): the habit's name is 256 "
        "characters long; at most 255 are allowed."
    )
    assert detect_and_read(loop_csv_zip([LoopHabit("x" * 255)])).habits[0].name == "x" * 255


def test_a_note_over_the_limit_is_refused() -> None:
    habit = LoopHabit("A", entries=[(D(2024, 1, 1), 2, "n" * 1001)])
    assert refused(loop_csv_zip([habit])) == (
        "001 A/Checkmarks.csv, line 2: the note is 1001 characters long; at most 1000 are allowed."
    )


def test_the_limits_are_the_columns() -> None:
    assert Habit._meta.get_field("action").max_length == common.NAME_MAX_LENGTH
    assert NOTE_MAX_LENGTH == common.NOTE_MAX_LENGTH


HEADER = "Position,Name,FrequencyNumerator,FrequencyDenominator\n"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"Habits.csv": HEADER + "001,A,1,1\n", "001 A/Checkmarks.csv": "2020-13-01,2\n"},
            "001 A/Checkmarks.csv, line 1: '2020-13-01' is not a date (YYYY-MM-DD).",
        ),
        (
            {"Habits.csv": HEADER + "001,A,1,1\n", "001 A/Checkmarks.csv": "2020-01-01,two\n"},
            "001 A/Checkmarks.csv, line 1: the value 'two' is not a whole number.",
        ),
        (
            {"Habits.csv": HEADER + "001,A,1,1\n", "001 A/Checkmarks.csv": "2020-01-01,9\n1,2\n"},
            "001 A/Checkmarks.csv, line 2: '1' is not a date (YYYY-MM-DD).",
        ),
        (
            {"Habits.csv": HEADER + "001,A,x,1\n"},
            "Habits.csv, line 2 (the habit at position 1): the frequency 'x' is not a whole "
            "number.",
        ),
        (
            {"Habits.csv": "Position,Name,Color\n001,A,#fff\n"},
            "Habits.csv: the header has no column FrequencyNumerator, FrequencyDenominator.",
        ),
        (
            {"Habits.csv": HEADER + "001,A,1\n"},
            "Habits.csv, line 2: the row has 3 cells; the header names 4.",
        ),
        (
            {"Habits.csv": (HEADER + "001,A,1,1\n").encode() + b"002,Caf\xe9,1,1\n"},
            "Habits.csv, line 3: the text is not UTF-8; save the file as UTF-8 and import again.",
        ),
        (
            {"Habits.csv": HEADER + '001,"A,1,1\n'},
            "Habits.csv, line 3: unexpected end of data.",
        ),
    ],
)
def test_bad_loop_files_are_refused_naming_file_and_line(
    files: dict[str, bytes | str], message: str
) -> None:
    assert refused(zip_of(files)) == message


def test_a_yes_no_habit_with_an_amount_is_refused() -> None:
    current = LoopHabit("A", entries=[(D(2020, 1, 1), 1500, "")])
    assert refused(loop_csv_zip([current])) == (
        "001 A/Checkmarks.csv, line 2: 1500 is not a value of a yes/no habit."
    )


def _samples() -> list[bytes]:
    habits = yes_no_habits()[:2] + numeric_habits()
    row = ("Floss", "x", "Health", "2016-03-18", "1", "note")
    return [
        loop_csv_zip(habits),
        loop_csv_zip(habits, layout="old"),
        loop_db(12, [LoopHabit("A", entries=[(D(2016, 1, 1), 2, "")])]),
        loop_db(25, habits),
        habitbull_csv([row, row]),
    ]


def test_damaged_files_are_refused_never_a_bare_exception() -> None:
    rng = random.Random(21)
    messages: list[str] = []
    for sample in _samples():
        cuts = {len(sample) * i // 40 for i in range(40)}
        variants = [sample[:cut] for cut in cuts]
        for _ in range(60):
            garbled = bytearray(sample)
            for _ in range(rng.randint(1, 8)):
                garbled[rng.randrange(len(garbled))] = rng.randrange(256)
            variants.append(bytes(garbled))
        for variant in variants:
            try:
                detect_and_read(variant)
            except ImportRefused as refusal:
                messages.append(str(refusal))
    assert messages
    assert all(messages)


def test_progress_of_a_large_backup_and_a_habitbull_file() -> None:
    entries = [(D.fromordinal(730000 + i), 2, "") for i in range(12_000)]
    calls: list[tuple[int, int]] = []
    detect_and_read(loop_db(12, [LoopHabit("A", entries=entries)]), lambda *c: calls.append(c))
    assert calls == [(0, 12_000), (5_000, 12_000), (10_000, 12_000), (12_000, 12_000)]
    rows = [("A", "", "", D.fromordinal(730000 + i).isoformat(), "1", "") for i in range(5_001)]
    calls.clear()
    detect_and_read(habitbull_csv(rows), lambda *c: calls.append(c))
    assert calls == [(0, 5_001), (5_000, 5_001), (5_001, 5_001)]


def test_a_habitbull_file_that_is_not_utf8_is_refused_naming_the_line() -> None:
    data = habitbull_csv([("Floss", "", "Health", "2016-03-18", "1", "")]) + b"Caf\xe9,,,,,\n"
    assert refused(data) == (
        "the HabitBull file, line 3: the text is not UTF-8; save the file as UTF-8 and import "
        "again."
    )


def test_the_backups_copy_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    detect_and_read(loop_db(25, [LoopHabit("A")]))
    refused(b"SQLite format 3\x00" + b"\x00" * 200)
    assert list(tmp_path.iterdir()) == []


def test_missing_or_mistyped_cells_of_a_backup_are_refused() -> None:
    data = _with_sql(loop_db(21, [LoopHabit("A")]), "UPDATE Habits SET freq_den = NULL")
    assert refused(data) == (
        "The backup's habit at position 1 (Habits row id 1): the frequency is missing."
    )
    data = _with_sql(loop_db(21, [LoopHabit("A")]), "UPDATE Habits SET archived = 'yes'")
    assert refused(data) == (
        "The backup's habit at position 1 (Habits row id 1): archived 'yes' is not a whole number."
    )
    data = _with_sql(loop_db(21, [LoopHabit("A")]), "UPDATE Habits SET name = NULL")
    assert refused(data) == (
        "The backup's habit at position 1 (Habits row id 1): the habit has no name."
    )


def test_reading_a_backup_is_bounded_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [(D.fromordinal(730000 + i), 2, "") for i in range(3000)]
    data = loop_db(12, [LoopHabit("A", entries=entries)])
    monkeypatch.setattr(backup_reader, "QUERY_SECONDS", -1.0)  # every query is already late
    assert refused(data) == "Reading the Loop backup took longer than -1 s; it is refused."
