"""A real Loop file, uploaded over the API, imported by a real worker process: the owner's
sockets hear the progress and the result, and the same file twice creates nothing new."""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.redis import get_redis, key
from habits.models import Habit
from instances.models import HabitInstance, Source, Status
from tests.transfer.files import LoopHabit, loop_csv_zip, loop_db
from transfer import services
from transfer.models import ImportJob, ImportStatus

QUEUE = key("celery", "celery")
YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)


@pytest.fixture(autouse=True)
def empty_queue() -> None:
    get_redis().delete(QUEUE)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the condition did not come true in time")


def _loop_file() -> bytes:
    run = LoopHabit(
        name="Run", numerator=3, denominator=7,
        entries=[(YESTERDAY - timedelta(days=n), [2, 0, 3, 1, -1][n % 5], "ok" if n == 0 else "")
                 for n in range(100)],
    )  # fmt: skip
    read = LoopHabit(
        name="Read", entries=[(YESTERDAY - timedelta(days=n), 2, "") for n in range(64)]
    )
    return loop_csv_zip([run, read])


def _upload(client, content: bytes):
    return client.client.post(
        "/api/import/", {"file": SimpleUploadedFile("export.zip", content)},
        headers=client._headers(None),
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_worker_imports_an_uploaded_loop_zip_and_the_owner_sees_it_through(
    worker, user, authed, events_of
):
    probe = events_of(user)

    response = _upload(authed, _loop_file())
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    wait_for(lambda: authed.get(f"/api/import/{job_id}/").json()["status"] == "finished")

    body = authed.get(f"/api/import/{job_id}/").json()
    # Run: 100 days, of which implied yes (1) and unknown (-1) create nothing: 60. Read: 64.
    assert (body["format"], body["habits_created"], body["instances_created"]) == (
        "loop-csv", 2, 124,
    )  # fmt: skip
    frames = probe.drain(wait=1.0)
    finished = [f["data"] for f in frames if f["type"] == "import.finished"]
    assert [f["instances_created"] for f in finished] == [124]
    assert [f["data"]["done"] for f in frames if f["type"] == "import.progress"][-1:] == [124]
    history = HabitInstance.objects.filter(user=user, source=Source.IMPORT)
    assert history.filter(habit__action="Run").count() == 60
    assert history.get(habit__action="Run", date=YESTERDAY).note == "ok"
    assert set(history.values_list("status", flat=True)) == {
        Status.COMPLETED, Status.FIX_EXPIRED, Status.SKIPPED,
    }  # fmt: skip

    again = _upload(authed, _loop_file())
    assert again.status_code == 202
    again_id = again.json()["id"]
    wait_for(lambda: authed.get(f"/api/import/{again_id}/").json()["status"] == "finished")
    second = authed.get(f"/api/import/{again_id}/").json()
    assert (second["habits_created"], second["instances_created"]) == (0, 0)
    assert (second["habits_merged"], second["days_existing"]) == (2, 124)


@pytest.mark.parametrize("version", [12, 25])
def test_a_loop_backup_is_imported_and_twice_is_once(db, user, version):
    habits = [LoopHabit(name="Stretch", entries=[(YESTERDAY - timedelta(days=n), 2, "")
                                                 for n in range(30)])]  # fmt: skip
    content = loop_db(version, habits)

    for expected in (30, 0):
        job = services.import_create(user=user, data=content, queue=False)
        services.import_run(job_id=job.pk)
        job = ImportJob.objects.get(pk=job.pk)
        assert (job.status, job.format, job.instances_created) == (
            ImportStatus.FINISHED, "loop-db", expected,
        )  # fmt: skip
    assert Habit.objects.filter(user=user).count() == 1


def test_a_file_of_no_known_format_fails_in_words(db, user):
    job = services.import_create(user=user, data=b"\x00\x01 not a habit file", queue=False)
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "not a format we can import" in job.error
