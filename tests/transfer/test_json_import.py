"""This app's own JSON export read back (SPEC §9): everything restored, a round trip equal,
twice is once, and a damaged export refused in words with nothing written."""

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest

from habits.models import Habit
from instances.models import HabitInstance, Pause, SkipReason, Source, Status
from instances.services import instances_generate_for
from tests.factories import HabitFactory, PleasantHabitFactory, UserFactory, make_instance
from transfer import services
from transfer.export import export_json
from transfer.models import ImportJob, ImportStatus

# Past, so nothing of the account is planned for today or tomorrow by the import.
START = date(2025, 3, 2)


def _at(on: date, hour: int = 7) -> datetime:
    return datetime(on.year, on.month, on.day, hour, tzinfo=UTC)


def _account(owner) -> None:
    """Pleasant and useful habits (rewarded by a text and by a pleasant habit, cued, an
    inactive one), instances of every status with notes, sources and skip reasons, and a
    pause that skipped one."""
    tea = PleasantHabitFactory(user=owner, action="tea", place="kitchen", start_date=START)
    run = HabitFactory(
        user=owner, action="run 5 km", place="park", time_of_day=time(7, 15), reward_text=None,
        related_pleasant_habit=tea, periodicity_days=2, repeat_limit=30, grace_minutes=45,
        fix_minutes=90, start_date=START, is_public=True, reminders=[-30, 0, 40], cue_habit=tea,
        cue_delay_minutes=15,
    )  # fmt: skip
    HabitFactory(user=owner, action="floss", start_date=START, is_active=False, repeat_limit=45)
    pause = Pause.objects.create(
        user=owner, habit=run, start_date=START + timedelta(days=12),
        end_date=START + timedelta(days=12), reason=SkipReason.TRAVEL,
    )  # fmt: skip
    Pause.objects.create(user=owner, start_date=START + timedelta(days=30),
                         end_date=START + timedelta(days=33))  # fmt: skip
    statuses = [Status.COMPLETED, Status.COMPLETED_LATE, Status.MISSED, Status.FIX_EXPIRED,
                Status.SKIPPED]  # fmt: skip
    for n, status in enumerate(statuses):
        on = START + timedelta(days=2 * n)
        source = [Source.WEB, Source.TELEGRAM, Source.API, "", Source.WEB][n]
        note = f"day {n}" if n % 2 else ""
        make_instance(run, on, _at(on), status=status, note=note, source=source)
    on = START + timedelta(days=12)
    make_instance(run, on, _at(on), status=Status.SKIPPED, skip_reason=SkipReason.TRAVEL,
                  pause=pause)  # fmt: skip
    make_instance(tea, START, _at(START, 20), status=Status.COMPLETED, source=Source.IMPORT)


def _comparable(document: dict) -> dict:
    """The export without what an import makes anew: ids (habits named by action instead),
    the moments rows were written, the export's own moment and the account's identity."""
    actions = {h["id"]: h["action"] for h in document["habits"]}
    pause_keys = {
        p["id"]: (actions.get(p["habit_id"]), p["start_date"], p["end_date"], p["reason"])
        for p in document["pauses"]
    }

    def habit(h: dict) -> dict:
        rest = {k: v for k, v in h.items() if k not in ("id", "created_at", "updated_at")}
        rest["related_pleasant_habit"] = actions.get(h["related_pleasant_habit"])
        rest["cue_habit_id"] = actions.get(h["cue_habit_id"])
        return rest

    def instance(i: dict) -> dict:
        rest = {k: v for k, v in i.items() if k not in ("id",)}
        rest["habit_id"] = actions[i["habit_id"]]
        rest["pause_id"] = pause_keys.get(i["pause_id"])
        return rest

    return {
        "habits": sorted((habit(h) for h in document["habits"]), key=lambda h: h["action"]),
        "instances": sorted(
            (instance(i) for i in document["instances"]), key=lambda i: (i["habit_id"], i["date"])
        ),
        "pauses": sorted(pause_keys.values(), key=str),
    }


def _import(user, document: dict) -> ImportJob:
    job = services.import_create(user=user, data=json.dumps(document).encode(), queue=False)
    services.import_run(job_id=job.pk)
    return ImportJob.objects.get(pk=job.pk)


def test_export_import_export_gives_back_the_same_account(db, vendor):
    source = UserFactory(timezone="Europe/Berlin")
    _account(source)
    # Its active habits planned for today and tomorrow, as the import plans the restored ones.
    instances_generate_for(user_ids=[source.pk], fresh=True)
    exported = export_json(source)
    empty = UserFactory(timezone="Europe/Berlin")

    job = _import(empty, exported)

    assert (job.status, job.format, job.error) == (ImportStatus.FINISHED, "atomic-habits", "")
    assert job.habits_created == 3
    assert job.instances_created == len(exported["instances"]) > 7
    again = export_json(empty)
    assert _comparable(again) == _comparable(exported)
    # The restored rows obey the models' own rules, and no reminder is owed for history.
    for habit in Habit.objects.filter(user=empty):
        habit.full_clean()
    restored = HabitInstance.objects.filter(user=empty)
    assert (
        not restored.filter(date__lt=START + timedelta(days=100))
        .filter(next_reminder_at__isnull=False)
        .exists()
    )
    # Deleting the restored pause would give back its own instance: they are linked again.
    travel = Pause.objects.get(user=empty, reason=SkipReason.TRAVEL)
    assert restored.get(pause=travel).date == START + timedelta(days=12)


def test_the_same_export_twice_restores_nothing_the_second_time(db, vendor):
    source = UserFactory()
    _account(source)
    exported = export_json(source)
    target = UserFactory()
    _import(target, exported)
    counts = (
        Habit.objects.filter(user=target).count(),
        HabitInstance.objects.filter(user=target).count(),
        Pause.objects.filter(user=target).count(),
    )

    second = _import(target, exported)

    assert (second.habits_created, second.instances_created) == (0, 0)
    assert (second.habits_merged, second.days_existing) == (3, 7)
    assert (
        Habit.objects.filter(user=target).count(),
        HabitInstance.objects.filter(user=target).count(),
        Pause.objects.filter(user=target).count(),
    ) == counts


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda d: d["habits"][0].update(periodicity_days=4), "periodicity_days"),
        (lambda d: d["instances"][0].update(habit_id=999_999), "habit 999999"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d["habits"][1].update(reminders=[5000]), "reminders"),
    ],
)
def test_a_damaged_export_fails_in_words_and_writes_nothing(db, damage, says):
    source = UserFactory()
    _account(source)
    document = export_json(source)
    damage(document)
    target = UserFactory()

    job = _import(target, document)

    assert job.status == ImportStatus.FAILED
    assert says in job.error
    assert not Habit.objects.filter(user=target).exists()
    assert not Pause.objects.filter(user=target).exists()


def test_broken_json_is_refused_in_words(db):
    job = services.import_create(
        user=UserFactory(), data=b'{"format": "atomic-habits", "habits": [', queue=False
    )
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "JSON" in job.error
