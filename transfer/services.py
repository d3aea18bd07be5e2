"""An import's life (SPEC §9): stored by the request, run by the worker (or the operator's
command), all of it written in one transaction.

    POST /api/import/  import_create: the file and its sha256 in a job row, `queued`; the
                       partial unique index refuses a second one under way (409); after the
                       commit the worker is asked (`import.queued` → the task).
    worker             import_run: the job claimed `running` (committed on its own), then in
                       ONE transaction: the file read, habits and days written, the job
                       `finished` with its numbers, `import.finished` recorded. A refused
                       file, or any error, rolls all of it back and ends the job `failed`.
                       A worker killed mid-way leaves the job `running` and nothing else: the
                       task is acknowledged late, so it runs again and claims it again.

Progress (`import.progress`) is told while the transaction is still open: it changes
nothing in the database, so it goes through `core.events.record_now`, not `record`.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core.errors import Conflict, NotFound
from core.events import record, record_now
from core.tasks import RETRYABLE
from transfer import json_import
from transfer.events import IMPORT_FINISHED, IMPORT_PROGRESS, IMPORT_QUEUED
from transfer.formats import Imported, ImportRefused
from transfer.formats.detect import detect_and_read, is_own_json
from transfer.importing import ImportResult, Progress, import_write
from transfer.models import ERROR_MAX_LENGTH, UNDER_WAY, ImportJob, ImportStatus

logger = logging.getLogger(__name__)

# At most one `import.progress` per this many seconds (and one when all is done).
PROGRESS_EVERY_SECONDS = 0.5
UNEXPECTED_ERROR = "The file could not be imported because of an error on our side."


def read_file(data: bytes) -> Imported:
    """A foreign file (Loop, HabitBull) read by its content; `ImportRefused` if unreadable."""
    return detect_and_read(data)


def import_create(*, user: User, data: bytes, queue: bool = True) -> ImportJob:
    """Store the file as a `queued` job; 409 (Conflict) while another import of the user is
    under way. `queue`: the worker is asked after the commit (the command runs it itself)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                job = ImportJob.objects.create(
                    user=user, data=data, size=len(data), sha256=hashlib.sha256(data).hexdigest()
                )
        except IntegrityError:
            if _under_way(user) is None:
                raise  # not the one-under-way index: a bug, not a conflict
            raise Conflict("An import is already under way; wait until it has finished.") from None
        if queue:
            record(IMPORT_QUEUED, job_id=job.pk, user_id=user.pk)
    return job


def _under_way(user: User) -> ImportJob | None:
    return ImportJob.objects.filter(user=user, status__in=UNDER_WAY).first()


def import_of(*, user: User, job_id: int) -> ImportJob:
    """The user's own job (404 for anyone else's: the two are told apart to nobody)."""
    job = ImportJob.objects.filter(pk=job_id, user=user).defer("data").first()
    if job is None:
        raise NotFound("No such import.")
    return job


class _Reporter:
    """`import.progress` at most every PROGRESS_EVERY_SECONDS, and the operator's bar."""

    def __init__(self, job: ImportJob, also: Progress | None) -> None:
        self.job, self.also, self.last = job, also, 0.0

    def __call__(self, done: int, total: int) -> None:
        if self.also is not None:
            self.also(done, total)
        moment = time.monotonic()
        if done < total and moment - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = moment
        record_now(
            IMPORT_PROGRESS, job_id=self.job.pk, user_id=self.job.user_id, done=done, total=total
        )


def import_run(*, job_id: int, progress: Progress | None = None) -> ImportJob | None:
    """Run the job (the task's and the command's work); None when it is over already (a
    re-delivered task). Re-runs a job found `running`: its transaction never committed."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status__in=UNDER_WAY).update(
        status=ImportStatus.RUNNING, started_at=now
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    try:
        with transaction.atomic():
            _import(job, now, _Reporter(job, progress))
    except ImportRefused as refused:
        _fail(job, str(refused) or "This file cannot be imported.")
    except RETRYABLE:
        raise  # the database or Redis away: the task retries, the job is still `running`
    except Exception:
        logger.exception("import %s failed", job.pk)
        _fail(job, UNEXPECTED_ERROR)
    return ImportJob.objects.defer("data").get(pk=job_id)


def _import(job: ImportJob, now: Any, reporter: Callable[[int, int], None]) -> None:
    data = bytes(job.data)
    if is_own_json(data):
        fmt = json_import.FORMAT
        result = json_import.import_own(user=job.user, data=data, now=now, progress=reporter)
    else:
        imported = read_file(data)
        fmt = imported.format
        result = import_write(user=job.user, imported=imported, now=now, progress=reporter)
    _finish(job, fmt, result)


def _finish(job: ImportJob, fmt: str, result: ImportResult) -> None:
    """The job's numbers, in the import's own transaction; the file itself is let go."""
    total = result.instances_created
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FINISHED, format=fmt[:32], data=b"",
        habits_created=result.habits_created, habits_merged=result.habits_merged,
        instances_created=result.instances_created, days_existing=result.days_existing,
        done=total, total=total, finished_at=timezone.now(),
    )  # fmt: skip
    record(IMPORT_FINISHED, job_id=job.pk, user_id=job.user_id, habit_ids=result.habit_ids)


@transaction.atomic
def _fail(job: ImportJob, error: str) -> None:
    """Nothing of the file was written (its transaction rolled back): the job says why."""
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, error=error[:ERROR_MAX_LENGTH], data=b"",
        finished_at=timezone.now(),
    )  # fmt: skip
    record(IMPORT_FINISHED, job_id=job.pk, user_id=job.user_id, habit_ids=[])


GIVEN_UP = "The import was stopped by an operator; upload the file again."


@transaction.atomic
def imports_give_up(*, job_ids: list[int]) -> int:
    """End imports stuck `queued` or `running` (a task lost with the broker): `failed`, so
    their owners may upload again (the admin's door). A worker still running one finds it
    over when it commits: its claim is not checked again, so give up only lost ones."""
    jobs = list(ImportJob.objects.filter(pk__in=job_ids, status__in=UNDER_WAY).defer("data"))
    for job in jobs:
        _fail(job, GIVEN_UP)
    return len(jobs)
