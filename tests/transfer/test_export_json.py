"""The JSON export (SPEC §9): every key, in the API's own shapes, in a fixed number of queries."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from habits.models import Habit
from instances.models import HabitInstance, Pause, SkipReason, Source, Status
from tests.conftest import Api
from tests.factories import HabitFactory, PleasantHabitFactory, UserFactory, make_instance
from transfer.export import export_json

pytestmark = pytest.mark.django_db

START = date(2026, 3, 2)
EVERY_STATUS = [
    Status.COMPLETED,
    Status.COMPLETED_LATE,
    Status.MISSED,
    Status.FIX_EXPIRED,
    Status.SKIPPED,
    Status.PENDING,
    Status.SCHEDULED,
]


def _at(on: date, hour: int = 7) -> datetime:
    return datetime(on.year, on.month, on.day, hour, tzinfo=UTC)


@pytest.fixture
def owner(db):
    return UserFactory(timezone="Europe/Berlin", quiet_start=time(22), quiet_end=time(6, 30))


@pytest.fixture
def account(owner) -> dict:
    """A pleasant habit, a useful one rewarded by it and cued by it with an instance of every
    status (notes, a skip reason, sources), a pause that skipped one, and another owner."""
    tea = PleasantHabitFactory(user=owner, action="tea", place="kitchen", start_date=START)
    run = HabitFactory(
        user=owner,
        action="run 5 km",
        place="park",
        time_of_day=time(7, 15),
        reward_text=None,
        related_pleasant_habit=tea,
        periodicity_days=2,
        repeat_limit=30,
        grace_minutes=45,
        fix_minutes=90,
        start_date=START,
        is_public=True,
        reminders=[-30, 0, 40],
        cue_habit=tea,
        cue_delay_minutes=15,
    )
    pause = Pause.objects.create(
        user=owner,
        habit=run,
        start_date=START + timedelta(days=20),
        end_date=START + timedelta(days=22),
        reason=SkipReason.TRAVEL,
    )
    for n, status in enumerate(EVERY_STATUS):
        on = START + timedelta(days=2 * n)
        fields: dict = {"status": status, "note": f"note {n}" if n % 2 == 0 else ""}
        if status in (Status.COMPLETED, Status.COMPLETED_LATE):
            fields.update(completed_at=_at(on, 8), source=Source.TELEGRAM if n else Source.WEB)
        if status == Status.SKIPPED:
            fields["skip_reason"] = SkipReason.SICK
        make_instance(run, on, _at(on), **fields)
    skipped_by_pause = START + timedelta(days=20)
    make_instance(
        run, skipped_by_pause, _at(skipped_by_pause), status=Status.SKIPPED,
        skip_reason=SkipReason.TRAVEL, pause=pause,
    )  # fmt: skip
    make_instance(tea, START, _at(START, 20), status=Status.COMPLETED, source=Source.API)
    other = HabitFactory(action="not mine")
    make_instance(other, START, _at(START), status=Status.COMPLETED)
    Pause.objects.create(user=other.user, start_date=START, end_date=START)
    return {"tea": tea, "run": run, "pause": pause}


def test_the_document_has_every_key_of_spec_9(owner, account):
    document = export_json(owner, now=datetime(2026, 6, 1, 12, tzinfo=UTC))

    assert set(document) == {
        "format", "version", "exported_at", "user", "habits", "instances", "pauses",
    }  # fmt: skip
    assert (document["format"], document["version"]) == ("atomic-habits", 1)
    assert document["exported_at"] == "2026-06-01T12:00:00Z"
    assert document["user"] == {
        "email": owner.email,
        "timezone": "Europe/Berlin",
        "quiet_hours": {"start": "22:00", "end": "06:30"},
    }
    assert [h["action"] for h in document["habits"]] == ["tea", "run 5 km"]  # oldest first
    assert len(document["instances"]) == 9  # the other owner's are not there
    assert [p["id"] for p in document["pauses"]] == [account["pause"].pk]


def _to_milliseconds(shape: dict) -> dict:
    """The API renders instants to the millisecond; the export keeps the microseconds."""
    rounded = dict(shape)
    for key, value in shape.items():
        if key.endswith(("_at", "_deadline")) and value is not None:
            instant = datetime.fromisoformat(value)
            rounded[key] = instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    return rounded


def test_habits_and_instances_are_what_the_api_answers(owner, account):
    """The REST shapes, not a description of their own: each habit is `GET /api/habits/{id}/`,
    each instance an item of `GET /api/habits/{id}/instances/` (plus its pause); instants
    with their microseconds."""
    api = Api()
    api.login(owner.email)
    document = export_json(owner)

    for exported in document["habits"]:
        answered = api.get(f"/api/habits/{exported['id']}/").json()
        assert _to_milliseconds(exported) == _to_milliseconds(answered)
    listed = []
    for habit in (account["tea"], account["run"]):
        listed += api.get(f"/api/habits/{habit.pk}/instances/?limit=100").json()["items"]
    by_id = {i["id"]: i for i in listed}
    for exported in document["instances"]:
        pause_id = exported.pop("pause_id")
        assert _to_milliseconds(exported) == _to_milliseconds(by_id[exported["id"]])
        expected_pause = HabitInstance.objects.get(pk=exported["id"]).pause_id
        assert pause_id == expected_pause
    assert document["pauses"] == [
        {
            "id": account["pause"].pk,
            "start_date": "2026-03-22",
            "end_date": "2026-03-24",
            "habit_id": account["run"].pk,
            "reason": "travel",
        }
    ]


def test_every_rule_field_status_note_source_and_skip_reason_is_carried(owner, account):
    document = export_json(owner)
    run = next(h for h in document["habits"] if h["id"] == account["run"].pk)

    assert {k: run[k] for k in run if k not in ("id", "created_at", "updated_at", "program")} == {
        "action": "run 5 km",
        "place": "park",
        "time_of_day": "07:15",
        "is_pleasant": False,
        "reward_text": None,
        "related_pleasant_habit": account["tea"].pk,
        "periodicity_days": 2,
        "repeat_limit": 30,
        "grace_minutes": 45,
        "fix_minutes": 90,
        "start_date": "2026-03-02",
        "is_public": True,
        "is_active": True,
        "reminders": [-30, 0, 40],
        "cue_habit_id": account["tea"].pk,
        "cue_delay_minutes": 15,
    }
    runs = [i for i in document["instances"] if i["habit_id"] == account["run"].pk]
    assert [i["status"] for i in runs] == [*EVERY_STATUS, "skipped"]  # date order
    assert [i["note"] for i in runs] == [
        "note 0",
        None,
        "note 2",
        None,
        "note 4",
        None,
        "note 6",
        None,
    ]
    assert [i["source"] for i in runs[:2]] == ["web", "telegram"]
    assert [i["skip_reason"] for i in runs if i["skip_reason"]] == ["sick", "travel"]
    assert [i["pause_id"] for i in runs if i["pause_id"]] == [account["pause"].pk]
    assert runs[0]["completed_at"] == "2026-03-02T08:00:00Z"
    assert runs[0]["scheduled_at"] == "2026-03-02T07:00:00Z"
    assert runs[0]["grace_deadline"] == "2026-03-02T07:45:00Z"
    assert runs[0]["fix_deadline"] == "2026-03-02T09:15:00Z"


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_the_queries_do_not_grow_with_habits_or_instances(owner, monkeypatch, vendor):
    monkeypatch.setattr(type(connection), "vendor", vendor, raising=False)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            export_json(owner)
        return len(captured)

    HabitFactory(user=owner, start_date=START)
    few = queries()
    for _ in range(5):
        habit = HabitFactory(user=owner, start_date=START)
        for n in range(10):
            on = START + timedelta(days=n)
            make_instance(habit, on, _at(on), status=Status.MISSED)
    Pause.objects.create(user=owner, start_date=START, end_date=START)

    assert queries() == few == 4  # habits, their programs, pauses, instances


def test_an_empty_account_exports_empty_lists(owner):
    document = export_json(owner)

    assert (document["habits"], document["instances"], document["pauses"]) == ([], [], [])
    assert Habit.objects.count() == 0
