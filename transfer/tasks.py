"""Thin, idempotent Celery entry points; the work is in `transfer.services`."""

from celery import shared_task

from core.tasks import RETRY_POLICY
from transfer.services import import_run


@shared_task(name="transfer.import", **RETRY_POLICY)
def run_import(job_id: int) -> str | None:
    """Run an uploaded import. Acknowledged late: a worker killed mid-way leaves the job
    `running` with nothing written (one transaction), and the re-delivered task runs it
    again; one over already is left alone."""
    job = import_run(job_id=job_id)
    return job.status if job else None
