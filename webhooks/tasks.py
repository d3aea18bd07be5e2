"""Thin, idempotent Celery entry points; the work is in `webhooks.sender`."""

from celery import shared_task

from core.tasks import RETRY_POLICY
from webhooks import services
from webhooks.sender import deliveries_send


@shared_task(name="webhooks.send", **RETRY_POLICY)
def send_deliveries(hook_ids: list[int] | None = None) -> int:
    """Send the due deliveries of these hooks (None: of every hook).

    Queued after the commit that owed deliveries (config/reactions.py), and run by beat every
    WEBHOOK_SWEEP_SECONDS for every hook: the retries that fell due, and the deliveries of a
    worker killed mid-way (its claim on the hook runs out; nothing was marked sent). A pass
    that left some of its hooks' deliveries due (the per-hook batch) queues the next."""
    tries, claimed = deliveries_send(hook_ids)
    if claimed and services.has_due(claimed):
        send_deliveries.delay(claimed)
    return tries
