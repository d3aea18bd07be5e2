"""Celery entry points (thin and idempotent: the work is in `webhooks.sender`), and `send_ask`,
the one way the rest of the project asks for a pass."""

import logging
import time
from collections.abc import Sequence

import redis
from celery import shared_task
from django.conf import settings

from core.redis import get_redis, key
from core.tasks import RETRY_POLICY
from webhooks import services
from webhooks.sender import deliveries_send

logger = logging.getLogger(__name__)

# A pass asked for a hook and not yet begun is marked for this long at most: a pass lost with
# the broker costs at most this much delay (beat's sweep would find its deliveries anyway).
QUEUED_SECONDS = 10


def _queued_key(hook_id: int) -> str:
    return key("webhooks", "queued", hook_id)


def send_ask(hook_ids: Sequence[int]) -> None:
    """Have a worker send the due deliveries of these hooks: `webhooks.send` is queued for
    those with no pass queued and not yet begun (a mark in Redis), so a flood of changes
    of one user queues a pass per hook rather than one per change, and a change pays one
    Redis round trip instead of a publish (a third of a millisecond of its 10).

    Nothing is lost: a pass removes its hooks' marks before it reads what is due, so a
    change that found a mark committed before that removal, and its deliveries are read by
    that pass. Redis away: queued anyway."""
    ids = sorted(set(hook_ids))
    if not ids:
        return
    try:
        marks = get_redis().pipeline(transaction=False)
        for hook_id in ids:
            marks.set(_queued_key(hook_id), 1, nx=True, ex=QUEUED_SECONDS)
        fresh = [hook_id for hook_id, marked in zip(ids, marks.execute(), strict=True) if marked]
    except redis.RedisError:
        logger.warning("webhooks: Redis does not answer; a pass queued without a mark")
        fresh = ids
    if fresh:
        send_deliveries.delay(fresh)


def _begun(hook_ids: Sequence[int]) -> None:
    """The pass has begun: later changes must queue another (before anything is read)."""
    try:
        get_redis().delete(*(_queued_key(hook_id) for hook_id in hook_ids))
    except redis.RedisError:
        logger.warning("webhooks: Redis does not answer; marks left to run out")


@shared_task(name="webhooks.send", **RETRY_POLICY)
def send_deliveries(hook_ids: list[int] | None = None) -> int:
    """Send the due deliveries of these hooks (None: of every hook).

    Queued after the commit that owed deliveries (`send_ask`): one pass, and a pass that left
    some of its hooks' deliveries due (the per-hook batch) asks for the next, so the tasks of
    other hooks queued meanwhile get their turn. Run by beat every WEBHOOK_SWEEP_SECONDS for
    every hook: the retries that fell due and the deliveries of a worker killed mid-way (its
    claim on the hook runs out; nothing was marked sent), pass after pass until none is left
    or the period is spent (the next run goes on)."""
    if hook_ids is not None:
        _begun(hook_ids)
        tries, claimed = deliveries_send(hook_ids)
        if claimed and services.has_due(claimed):
            send_ask(claimed)
        return tries
    deadline = time.monotonic() + settings.WEBHOOK_SWEEP_SECONDS
    tries, claimed = deliveries_send(None)
    while claimed and time.monotonic() < deadline:
        more, claimed = deliveries_send(None)
        tries += more
    return tries
