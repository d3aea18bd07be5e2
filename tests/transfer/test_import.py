"""The import pipeline (SPEC §9): the API, the one transaction, idempotence, merging, the
mappings onto the habit rules, and what the owner hears. The foreign readers are the formats'
own (tests/transfer/test_formats*.py): here a file's content is read by a stand-in that
builds `Imported` directly, so these tests are about what is written."""

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.timezones import local_today
from habits.models import Habit
from instances.models import HabitInstance, SkipReason, Source, Status
from instances.program import programs_of
from telegram.models import OutboxMessage
from tests.factories import HabitFactory, UserFactory
from transfer import services
from transfer.formats import DayMark, Imported, ImportedDay, ImportedHabit, ImportRefused
from transfer.importing import IMPORTED_REWARD, IMPORTED_TIME, periodicity_for
from transfer.models import IMPORT_MAX_BYTES, ImportJob, ImportStatus

TODAY = datetime.now(UTC).date()


def _days(count: int, *, end: date = TODAY - timedelta(days=1)) -> list[ImportedDay]:
    marks = [DayMark.DONE, DayMark.DONE, DayMark.FAILED, DayMark.SKIPPED]
    return [
        ImportedDay(end - timedelta(days=n), marks[n % 4], note="ran" if n == 0 else "")
        for n in range(count)
    ]


def _loop(*habits: ImportedHabit) -> Imported:
    return Imported(format="loop-csv", habits=list(habits))


class FakeReader:
    """Stands in for `transfer.formats.detect.detect_and_read`: a file's bytes name an entry."""

    def __init__(self) -> None:
        self.files: dict[bytes, Imported | str] = {}

    def add(self, content: bytes, imported: Imported | str) -> bytes:
        self.files[content] = imported
        return content

    def __call__(self, data: bytes) -> Imported:
        found = self.files[data]
        if isinstance(found, str):
            raise ImportRefused(found)
        return found


@pytest.fixture
def reader(monkeypatch) -> FakeReader:
    fake = FakeReader()
    monkeypatch.setattr(services, "read_file", fake)
    return fake


def _run(user, content: bytes) -> ImportJob:
    job = services.import_create(user=user, data=content, queue=False)
    services.import_run(job_id=job.pk)
    return ImportJob.objects.get(pk=job.pk)


RUNNING = ImportedHabit(name="Run", numerator=3, denominator=7, days=_days(40))
READING = ImportedHabit(name="Read", days=_days(10))


# --- writing ---------------------------------------------------------------------------------


def test_days_become_instances_on_their_dates_timed_in_the_owners_zone(db, reader, vendor):
    user = UserFactory(timezone="Europe/Berlin")
    content = reader.add(b"loop", _loop(RUNNING, READING))

    job = _run(user, content)

    assert (job.status, job.format, job.error) == (ImportStatus.FINISHED, "loop-csv", "")
    assert (job.habits_created, job.instances_created, job.days_existing) == (2, 50, 0)
    run = Habit.objects.get(user=user, action="Run")
    assert run.periodicity_days == 2  # 3 in 7 days: every 2.33 days
    assert (run.time_of_day, run.reward_text, run.is_pleasant) == (
        IMPORTED_TIME, IMPORTED_REWARD, False,
    )  # fmt: skip
    assert run.start_date == TODAY - timedelta(days=40)
    history = HabitInstance.objects.filter(habit=run, source=Source.IMPORT)
    assert history.count() == 40
    first = history.get(date=TODAY - timedelta(days=1))
    # 09:00 in Berlin that day, as generation would time it; done at its time; the note kept.
    assert first.scheduled_at == datetime.combine(
        first.date, time(9), tzinfo=ZoneInfo("Europe/Berlin")
    )
    assert (first.status, first.completed_at, first.note) == (
        Status.COMPLETED, first.scheduled_at, "ran",
    )  # fmt: skip
    assert first.grace_deadline == first.scheduled_at + timedelta(minutes=run.grace_minutes)
    statuses = dict(history.values_list("date", "status"))
    assert statuses[TODAY - timedelta(days=3)] == Status.FIX_EXPIRED
    skipped = history.get(date=TODAY - timedelta(days=4))
    assert (skipped.status, skipped.skip_reason) == (Status.SKIPPED, SkipReason.OTHER)
    # No reminder owed for history.
    assert not history.filter(next_reminder_at__isnull=False).exists()
    assert not history.filter(reminded_at__isnull=True).exists()


def test_frequencies_map_to_the_nearest_allowed_period():
    table = {(1, 1): 1, (1, 2): 2, (1, 3): 3, (3, 7): 2, (2, 7): 3, (1, 4): 3, (1, 5): 5,
             (1, 6): 5, (1, 7): 7, (1, 30): 7, (5, 7): 1, (0, 7): 1}  # fmt: skip
    assert {pair: periodicity_for(*pair) for pair in table} == table


def test_a_numeric_habit_keeps_its_amounts_in_the_notes(db, reader, vendor, user):
    pushups = ImportedHabit(
        name="Push-ups", numeric=True, unit="reps", target=20,
        days=[ImportedDay(TODAY - timedelta(days=1), DayMark.DONE, note="easy", amount=25)],
    )  # fmt: skip
    _run(user, reader.add(b"n", _loop(pushups)))

    assert (
        HabitInstance.objects.get(habit__action="Push-ups", source="import").note == "easy\n25 reps"
    )


def test_notes_arrive_as_written_whatever_they_hold(db, reader, vendor, user):
    notes = ['say "hi"', "back\\slash", "{braces},commas", "NULL", "line\nbreak", "", "😀 ü"]
    days = [ImportedDay(TODAY - timedelta(days=n + 1), DayMark.DONE, note=note)
            for n, note in enumerate(notes)]  # fmt: skip
    _run(user, reader.add(b"notes", _loop(ImportedHabit(name="Journal", days=days))))

    stored = HabitInstance.objects.filter(source=Source.IMPORT).order_by("-date")
    assert list(stored.values_list("note", flat=True)) == notes


def test_archived_habits_arrive_inactive_and_active_ones_go_on_from_today(db, reader, user):
    archived = ImportedHabit(name="Old", archived=True, days=_days(3))
    _run(user, reader.add(b"a", _loop(archived, READING)))

    old, read = Habit.objects.get(action="Old"), Habit.objects.get(action="Read")
    assert not old.is_active
    assert not HabitInstance.objects.filter(habit=old).exclude(source=Source.IMPORT).exists()
    assert read.is_active
    # Generated as for a new habit: today and tomorrow (a passed fix deadline aside).
    planned = set(
        HabitInstance.objects.filter(habit=read, source="").values_list("date", flat=True)
    )
    assert TODAY + timedelta(days=1) in planned


def _zone_at_four_in_the_morning() -> str:
    """A fixed-offset zone where it is now 04:xx, today or tomorrow by UTC's date: the
    imported habits' 09:00 is still ahead there, whatever the hour of the run."""
    hour = datetime.now(UTC).hour
    offset = 4 - hour if hour < 17 else 28 - hour  # -12 to +11 hours
    return f"Etc/GMT{-offset:+d}"  # Etc's sign is POSIX's: Etc/GMT-5 is UTC+5


def test_years_of_history_leave_the_course_untouched(db, reader):
    # Today's occurrence is not due yet: were it past 09:30 in the owner's zone, the clock
    # would already count it failed.
    user = UserFactory(timezone=_zone_at_four_in_the_morning())
    years = ImportedHabit(name="Floss", days=_days(800))
    _run(user, reader.add(b"y", _loop(years)))
    habit = Habit.objects.get(action="Floss")

    program = programs_of([habit])[habit.pk]

    # 800 days of history, none counted: only today's and tomorrow's planned ones are.
    assert (program.done, program.failed, program.skipped) == (0, 0, 0)
    assert program.remaining >= habit.repeat_limit - 2
    assert not program.finished
    assert habit.program_finished_at is None


def test_days_after_today_are_not_history(db, reader, user):
    ahead = ImportedHabit(name="Ahead", days=[ImportedDay(TODAY + timedelta(days=5), DayMark.DONE)])
    job = _run(user, reader.add(b"f", _loop(ahead)))

    assert job.instances_created == 0
    assert not HabitInstance.objects.filter(source=Source.IMPORT).exists()


# --- one transaction ------------------------------------------------------------------------


def test_a_refused_file_fails_in_words_and_writes_nothing(db, reader, user):
    job = _run(user, reader.add(b"bad", "This zip holds more than 10,000 files."))

    assert (job.status, job.error) == (
        ImportStatus.FAILED,
        "This zip holds more than 10,000 files.",
    )
    assert not Habit.objects.filter(user=user).exists()


def test_a_failure_half_way_writes_nothing(db, reader, user, monkeypatch):
    from transfer import importing

    calls = []

    def broken(rows, **kw):
        calls.append(len(rows))
        if len(calls) == 2:
            raise ValueError("the disk broke")
        return original(rows, **kw)

    original = importing._insert
    monkeypatch.setattr(importing, "CHUNK", 10)
    monkeypatch.setattr(importing, "_insert", broken)

    job = _run(user, reader.add(b"x", _loop(RUNNING)))

    assert len(calls) == 2  # the first chunk was written, then rolled back with the rest
    assert (job.status, job.error) == (ImportStatus.FAILED, services.UNEXPECTED_ERROR)
    assert not Habit.objects.filter(user=user).exists()
    assert not HabitInstance.objects.filter(user=user).exists()


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_runs_again(
    db, reader, user, monkeypatch
):
    from transfer import importing

    original = importing._insert
    monkeypatch.setattr(importing, "CHUNK", 10)

    def killed(rows, **kw):
        raise SystemExit("SIGKILL")  # not an Exception: nothing catches it, as for a kill

    monkeypatch.setattr(importing, "_insert", killed)
    content = reader.add(b"k", _loop(RUNNING))
    job = services.import_create(user=user, data=content, queue=False)
    with pytest.raises(SystemExit):
        services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING
    assert not Habit.objects.filter(user=user).exists()

    monkeypatch.setattr(importing, "_insert", original)
    again = services.import_run(job_id=job.pk)  # the task, delivered again (acks_late)

    assert again.status == ImportStatus.FINISHED
    assert HabitInstance.objects.filter(user=user, source=Source.IMPORT).count() == 40
    assert services.import_run(job_id=job.pk) is None  # over: a third delivery does nothing


# --- idempotence and merging -------------------------------------------------------------------


def test_the_same_file_twice_creates_nothing_the_second_time(db, reader, vendor, user):
    content = reader.add(b"twice", _loop(RUNNING, READING))
    _run(user, content)
    counts = (Habit.objects.count(), HabitInstance.objects.count())

    second = _run(user, content)

    assert (Habit.objects.count(), HabitInstance.objects.count()) == counts
    assert (second.habits_created, second.instances_created) == (0, 0)
    assert (second.habits_merged, second.days_existing) == (2, 50)


def test_a_habit_of_the_same_name_takes_only_the_days_it_lacks(db, reader, vendor, user):
    own = HabitFactory(user=user, action="Run", start_date=TODAY - timedelta(days=5))
    mine = HabitInstance.objects.create(
        habit=own, user=user, date=TODAY - timedelta(days=2), status=Status.COMPLETED,
        scheduled_at=datetime.now(UTC) - timedelta(days=2),
        grace_deadline=datetime.now(UTC) - timedelta(days=2),
        fix_deadline=datetime.now(UTC) - timedelta(days=2),
        completed_at=datetime.now(UTC) - timedelta(days=2), source=Source.WEB,
    )  # fmt: skip

    job = _run(user, reader.add(b"m", _loop(RUNNING)))

    assert (job.habits_created, job.habits_merged) == (0, 1)
    assert (job.instances_created, job.days_existing) == (39, 1)
    assert Habit.objects.filter(user=user).count() == 1
    mine.refresh_from_db()
    assert (mine.source, mine.status) == (Source.WEB, Status.COMPLETED)  # the account's own stays
    own.refresh_from_db()
    assert (own.reward_text, own.time_of_day) == ("a cup of tea", time(8))  # its rules stay


def test_two_habits_of_one_name_in_a_file_become_one(db, reader, user):
    twin = ImportedHabit(name="Run", days=_days(45))  # the same 40 dates, and 5 more
    job = _run(user, reader.add(b"t", _loop(RUNNING, twin)))

    assert (job.habits_created, job.instances_created, job.days_existing) == (1, 45, 40)


def test_another_users_habit_of_that_name_is_not_theirs_to_merge(db, reader, user):
    HabitFactory(action="Run")
    job = _run(user, reader.add(b"o", _loop(RUNNING)))
    assert (job.habits_created, job.habits_merged) == (1, 0)


# --- quiet: no reminder, no per-row event ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_history_owes_no_message_and_the_owner_hears_progress_then_the_result(
    reader, events_of, monkeypatch
):
    from transfer import importing

    user = UserFactory()
    monkeypatch.setattr(importing, "CHUNK", 10)
    monkeypatch.setattr(services, "PROGRESS_EVERY_SECONDS", 0)
    probe = events_of(user)

    job = _run(user, reader.add(b"q", _loop(RUNNING, READING)))

    frames = probe.drain(wait=1.0)
    types = [f["type"] for f in frames]
    progress = [f["data"] for f in frames if f["type"] == "import.progress"]
    assert [p["done"] for p in progress] == [10, 20, 30, 40, 50]
    assert {(p["id"], p["total"]) for p in progress} == {(job.pk, 50)}
    [finished] = [f["data"] for f in frames if f["type"] == "import.finished"]
    assert finished == {
        "id": job.pk, "status": "finished", "format": "loop-csv", "habits_created": 2,
        "habits_merged": 0, "instances_created": 50, "days_existing": 0, "error": "",
    }  # fmt: skip
    # No frame per imported row: only today's and tomorrow's planned instances are announced.
    announced = [f for f in frames if f["type"] == "instance.created"]
    assert all(f["data"]["source"] is None for f in announced)
    assert types.index("import.finished") > max(
        i for i, t in enumerate(types) if t == "import.progress"
    )
    assert not OutboxMessage.objects.exists()


def test_progress_is_told_at_most_every_half_second(db, reader, user, monkeypatch):
    from transfer import importing

    told = []
    monkeypatch.setattr(importing, "CHUNK", 1)
    monkeypatch.setattr(services, "record_now", lambda type, **facts: told.append(facts["done"]))

    _run(user, reader.add(b"p", _loop(RUNNING)))

    assert told[-1] == 40  # the end is always told
    assert len(told) < 10  # 40 steps in well under half a second each


# --- every rule holds in the database -------------------------------------------------------


def test_every_imported_habit_passes_the_models_own_rules(db, reader, user):
    _run(user, reader.add(b"r", _loop(RUNNING, READING, ImportedHabit(name="x" * 255))))
    for habit in Habit.objects.filter(user=user):
        habit.full_clean()
    for instance in HabitInstance.objects.filter(user=user):
        instance.full_clean()


# --- the API ---------------------------------------------------------------------------------


def _upload(client, content: bytes, name: str = "Loop Habits.zip"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.client.post(
        "/api/import/", {"file": SimpleUploadedFile(name, content)},
        headers=client._headers(None),
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_an_upload_is_queued_202_and_a_second_one_meanwhile_is_409(user, authed, monkeypatch):
    from transfer import tasks

    queued = []
    monkeypatch.setattr(tasks.run_import, "delay", queued.append)

    first = _upload(authed, b"first")
    second = _upload(authed, b"second")

    assert first.status_code == 202
    body = first.json()
    assert body["status"] == "queued"
    assert queued == [body["id"]]  # asked after the commit, once
    assert second.status_code == 409
    assert "under way" in second.json()["detail"]
    job = ImportJob.objects.get(pk=body["id"])
    assert (bytes(job.data), job.size) == (b"first", 5)
    assert job.sha256 == hashlib.sha256(b"first").hexdigest()


def test_the_owner_follows_a_job_and_nobody_else_sees_it(db, user, authed, reader):
    job = _run(user, reader.add(b"g", _loop(READING)))
    other = type(authed)()
    other.login(UserFactory().email)

    mine = authed.get(f"/api/import/{job.pk}/")
    theirs = other.get(f"/api/import/{job.pk}/")

    assert mine.status_code == 200
    assert mine.json() == {
        "id": job.pk, "status": "finished", "format": "loop-csv", "habits_created": 1,
        "habits_merged": 0, "instances_created": 10, "days_existing": 0, "done": 10,
        "total": 10, "error": "",
    }  # fmt: skip
    assert theirs.status_code == 404
    assert authed.get("/api/import/999999/").status_code == 404


def test_a_file_over_20_mb_is_413_and_no_job(db, authed):
    response = _upload(authed, b"x" * (IMPORT_MAX_BYTES + 1))

    assert response.status_code == 413
    assert "20 MB" in response.json()["detail"] or "larger" in response.json()["detail"]
    assert not ImportJob.objects.exists()


def test_a_file_of_20_mb_is_taken(db, authed, monkeypatch):
    from transfer import tasks

    monkeypatch.setattr(tasks.run_import, "delay", lambda job_id: None)
    response = _upload(authed, b"x" * IMPORT_MAX_BYTES)
    assert response.status_code == 202, response.content


def test_other_api_paths_keep_their_smaller_body_limit(db, authed):
    response = authed.post("/api/habits/", raw="x" * (2 * 1024 * 1024))
    assert response.status_code == 413


def test_no_file_field_is_422_naming_it(db, authed):
    response = authed.client.post("/api/import/", {}, headers=authed._headers(None))
    assert response.status_code == 422
    assert "file" in json.dumps(response.json())


def test_a_stranger_without_a_token_is_401(db, api):
    assert api.post("/api/import/").status_code == 401


def test_today_is_the_owners_local_date(db, reader):
    """Days up to the owner's own today are history, whatever UTC says."""
    user = UserFactory(timezone="Pacific/Kiritimati")  # UTC+14
    today = local_today(user.timezone)
    habit = ImportedHabit(name="Swim", days=[ImportedDay(today, DayMark.DONE)])
    job = _run(user, reader.add(b"k14", _loop(habit)))
    assert job.instances_created == 1


def test_a_stuck_import_given_up_frees_the_owner_to_upload_again(db, user):
    stuck = services.import_create(user=user, data=b"lost with the broker", queue=False)

    assert services.imports_give_up(job_ids=[stuck.pk]) == 1

    stuck.refresh_from_db()
    assert (stuck.status, stuck.error) == (ImportStatus.FAILED, services.GIVEN_UP)
    assert services.import_create(user=user, data=b"again", queue=False).status == "queued"
    assert services.imports_give_up(job_ids=[stuck.pk]) == 0
