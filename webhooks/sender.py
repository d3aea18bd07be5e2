"""The worker's half: send the due deliveries, signed by the Standard Webhooks specification.

A pass claims the hooks with due deliveries that no other worker holds (services.hooks_claim)
and sends each hook's in its own thread, oldest first, at most WEBHOOK_PER_HOOK_BATCH per
hook: a receiver that answers slowly holds only its own thread, and a flood of events for one
hook waits for its next pass instead of filling this one.
"""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from django.conf import settings
from django.db import close_old_connections, connection
from standardwebhooks.webhooks import Webhook as Signer

from webhooks import services
from webhooks.models import WebhookDelivery
from webhooks.outbound import Answer, UnsafeUrl, post, target_of

THREADS = 8


def body_of(delivery: WebhookDelivery) -> bytes:
    """The same bytes on every try: the stored payload with sorted keys, whatever order the
    database gives its JSON back in."""
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()


def signed_headers(*, secret: str, message_id: str, body: bytes) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(secret).sign(message_id, now, body),
    }


def attempt(delivery: WebhookDelivery) -> Answer:
    """One try: the URL checked again (DNS may have changed since), then the POST."""
    hook = delivery.webhook
    try:
        target = target_of(hook.url)
    except UnsafeUrl as unsafe:
        return Answer(None, f"refused: URL {unsafe}"[:255])
    body = body_of(delivery)
    headers = signed_headers(secret=hook.secret, message_id=delivery.message_id, body=body)
    return post(target, body, headers)


def hook_send(hook_id: int) -> int:
    """Send the hook's due deliveries, oldest first, up to the batch; the claim released."""
    sent = 0
    try:
        for _ in range(settings.WEBHOOK_PER_HOOK_BATCH):
            delivery = services.next_due(hook_id)
            if delivery is None:
                break
            answer = attempt(delivery)
            sent += 1
            still_on = services.delivery_settle(
                delivery_id=delivery.pk, status_code=answer.status_code, error=answer.error
            )
            if not still_on:
                break
        services.deliveries_prune(hook_id)
    finally:
        services.hook_release(hook_id)
    return sent


def _in_thread(hook_id: int) -> int:
    close_old_connections()
    try:
        return hook_send(hook_id)
    finally:
        connection.close()  # this thread's own connection


def deliveries_send(hook_ids: list[int] | None = None) -> tuple[int, list[int]]:
    """One pass: (tries made, the hooks claimed)."""
    claim = services.hooks_claim(hook_ids, limit=THREADS)  # each sent at once: the lease holds
    if not claim.hook_ids:
        return 0, []
    if len(claim.hook_ids) == 1:
        return hook_send(claim.hook_ids[0]), claim.hook_ids
    with ThreadPoolExecutor(max_workers=min(THREADS, len(claim.hook_ids))) as pool:
        return sum(pool.map(_in_thread, claim.hook_ids)), claim.hook_ids
