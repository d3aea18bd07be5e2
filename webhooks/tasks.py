"""Thin, idempotent Celery entry points; the work is in `webhooks.sender`."""

import time

from celery import shared_task
from django.conf import settings

from core.tasks import RETRY_POLICY
from webhooks import services
from webhooks.sender import deliveries_send


@shared_task(name="webhooks.send", **RETRY_POLICY)
def send_deliveries(hook_ids: list[int] | None = None) -> int:
    """Send the due deliveries of these hooks (None: of every hook).

    Queued after the commit that owed deliveries (config/reactions.py): one pass, and a pass
    that left some of its hooks' deliveries due (the per-hook batch) queues the next, so the
    tasks of other hooks queued meanwhile get their turn. Run by beat every
    WEBHOOK_SWEEP_SECONDS for every hook: the retries that fell due and the deliveries of a
    worker killed mid-way (its claim on the hook runs out; nothing was marked sent), pass
    after pass until none is left or the period is spent (the next run goes on)."""
    if hook_ids is not None:
        tries, claimed = deliveries_send(hook_ids)
        if claimed and services.has_due(claimed):
            send_deliveries.delay(claimed)
        return tries
    deadline = time.monotonic() + settings.WEBHOOK_SWEEP_SECONDS
    tries, claimed = deliveries_send(None)
    while claimed and time.monotonic() < deadline:
        more, claimed = deliveries_send(None)
        tries += more
    return tries
