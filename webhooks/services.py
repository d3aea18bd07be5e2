"""A user's webhooks: written (checked), owed deliveries (in the change's transaction) and
sent (by the worker, after the commit)."""

import base64
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from core.bulk import among
from core.errors import FieldProblem, InvalidInput, NotFound
from core.events import record
from core.prepared import prepared_cursor
from webhooks.events import EVENT_TYPES, WEBHOOK_DISABLED, WEBHOOK_OWED
from webhooks.models import Webhook, WebhookDelivery
from webhooks.outbound import UnsafeUrl, target_of

MAX_HOOKS = 20  # per user
URL_MAX = 2000
SECRET_BYTES = 32  # 256 bits, the HMAC-SHA256 key


def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _events_checked(events: Sequence[str]) -> list[str]:
    if not events:
        raise InvalidInput.field("events", "name at least one event type")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput.field(
            "events", f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}"
        )
    return [e for e in EVENT_TYPES if e in events]  # one each, in the documented order


def _url_checked(url: str) -> str:
    url = url.strip()
    if len(url) > URL_MAX:
        raise InvalidInput.field("url", f"at most {URL_MAX} characters")
    try:
        target_of(url)
    except UnsafeUrl as unsafe:
        raise InvalidInput.field("url", f"URL {unsafe}") from None
    return url


@transaction.atomic
def webhook_create(*, user: User, url: str, events: Sequence[str]) -> Webhook:
    """A new hook; its `secret` is shown to the owner in this answer only."""
    problems: list[FieldProblem] = []
    checked: dict[str, Any] = {}
    for name, check, value in (("url", _url_checked, url), ("events", _events_checked, events)):
        try:
            checked[name] = check(value)
        except InvalidInput as invalid:
            problems.extend(invalid.problems)
    if problems:
        raise InvalidInput(problems)
    User.objects.select_for_update().filter(pk=user.pk).first()  # counts one writer at a time
    if Webhook.objects.filter(user=user).count() >= MAX_HOOKS:
        raise InvalidInput.field("url", f"at most {MAX_HOOKS} webhooks per user; delete one first")
    return Webhook.objects.create(user=user, secret=secret_new(), **checked)


@transaction.atomic
def webhook_update(*, user: User, webhook_id: int, changes: dict[str, Any]) -> Webhook:
    """`url`, `events`, `enabled`: re-enabling starts the failure count anew."""
    hook = Webhook.objects.select_for_update().filter(pk=webhook_id, user=user).first()
    if hook is None:
        raise NotFound()
    if "url" in changes:
        hook.url = _url_checked(changes["url"])
    if "events" in changes:
        hook.events = _events_checked(changes["events"])
    if "enabled" in changes:
        if changes["enabled"] and not hook.enabled:
            hook.failures_in_a_row = 0
            hook.disabled_reason = ""
        hook.enabled = bool(changes["enabled"])
    hook.save()
    return hook


def webhook_delete(*, user: User, webhook_id: int) -> None:
    deleted, _ = Webhook.objects.filter(pk=webhook_id, user=user).delete()
    if not deleted:
        raise NotFound()


def webhook_of(*, user: User, webhook_id: int) -> Webhook:
    hook = Webhook.objects.filter(pk=webhook_id, user=user).first()
    if hook is None:
        raise NotFound()
    return hook


# --- owed: in the change's transaction ------------------------------------------------------


def subscribers_of(*, user_ids: Iterable[int], event: str) -> dict[int, list[int]]:
    """`{user_id: [hook ids]}`: the owners' enabled hooks subscribed to `event`, in one read
    (SQL text: a sweep batch names thousands of owners, most of them without a hook)."""
    users = list(user_ids)
    if not users:
        return {}
    owned, params = among("w.user_id", users)
    query = (
        f"SELECT w.id, w.user_id FROM {Webhook._meta.db_table} w "  # noqa: S608 (names, ours)
        f"WHERE w.enabled AND {owned} AND {_DIALECT[connection.vendor]['subscribed']} "
        "ORDER BY w.id"
    )
    found: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, event])
        for pk, user_id in cursor.fetchall():
            found.setdefault(user_id, []).append(pk)
    return found


# What differs between the two databases in the one statement that owes deliveries.
_DIALECT = {
    "postgresql": {
        "payload": "CAST(d.column3 AS jsonb)",
        "message_id": "'msg_' || replace(CAST(gen_random_uuid() AS text), '-', '')",
        "subscribed": "w.events @> jsonb_build_array(CAST(%s AS text))",
    },
    "sqlite": {
        "payload": "d.column3",
        "message_id": "'msg_' || lower(hex(randomblob(16)))",
        "subscribed": "EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = %s)",
    },
}


def _owe_statement(rows: int) -> str:
    """INSERT … SELECT of a delivery per (enabled hook subscribed to the event, frame of its
    owner), frames in the order given, returning the hooks owed."""
    sql = _DIALECT[connection.vendor]
    frames = ", ".join(["(%s, %s, %s)"] * rows)  # (order, user id, payload)
    columns = "webhook_id, event, payload, message_id, attempt, next_attempt_at, error, created_at"
    return (
        f"INSERT INTO {WebhookDelivery._meta.db_table} ({columns}) "  # noqa: S608 (names, ours)
        f"SELECT w.id, %s, {sql['payload']}, {sql['message_id']}, 0, %s, '', %s "
        f"FROM {Webhook._meta.db_table} w JOIN (VALUES {frames}) d ON d.column2 = w.user_id "
        f"WHERE w.enabled AND {sql['subscribed']} ORDER BY d.column1, w.id "
        "RETURNING webhook_id"
    )


def deliveries_owe(*, event: str, data_by_user: dict[int, list[Any]]) -> list[int]:
    """One delivery per enabled hook subscribed to `event` and frame of its owner, its body
    fixed now (every try sends the same), in the transaction of the change, in one statement
    (the hooks are found by the insert itself); `webhook.owed` has the worker send them after
    the commit. Returns the hooks owed."""
    now = timezone.now()
    timestamp = now.isoformat().replace("+00:00", "Z")
    frames = [
        (user_id, json.dumps({"type": event, "timestamp": timestamp, "data": data}))
        for user_id, items in data_by_user.items()
        for data in items
    ]
    if not frames:
        return []
    at = connection.ops.adapt_datetimefield_value(now)
    params: list[Any] = [event, at, at]
    for order, (user_id, payload) in enumerate(frames):
        params += [order, user_id, payload]
    params.append(event)
    # Planned once per connection (core/prepared.py): a single change's text is always the same.
    with prepared_cursor() as cursor:
        cursor.execute(_owe_statement(len(frames)), params)
        hook_ids = sorted({hook_id for (hook_id,) in cursor.fetchall()})
    if hook_ids:
        record(WEBHOOK_OWED, hook_ids=hook_ids)
    return hook_ids


# --- sent: by the worker --------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """Hooks a worker now sends for alone, until `until`."""

    hook_ids: list[int]
    until: datetime


def hooks_claim(hook_ids: Sequence[int] | None, *, limit: int = 50) -> Claim:
    """Take the enabled hooks (of `hook_ids`, or any) with due deliveries that no other worker
    holds: one sender per hook at a time is the per-hook concurrency bound. A row another
    worker is claiming is skipped, not waited for (SKIP LOCKED)."""
    now = timezone.now()
    until = now + timezone.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    due = WebhookDelivery.objects.filter(next_attempt_at__lte=now).values("webhook_id")
    free = Webhook.objects.filter(enabled=True, pk__in=due).exclude(busy_until__gt=now)
    if hook_ids is not None:
        free = free.filter(pk__in=list(hook_ids))
    with transaction.atomic():
        ids = list(
            free.select_for_update(skip_locked=True, no_key=True)
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        Webhook.objects.filter(pk__in=ids).update(busy_until=until)
    return Claim(ids, until)


def hook_release(hook_id: int) -> None:
    Webhook.objects.filter(pk=hook_id).update(busy_until=None)


def next_due(hook_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        webhook_id=hook_id, webhook__enabled=True, next_attempt_at__lte=now
    )
    return due.order_by("id").select_related("webhook").first()


def has_due(hook_ids: Sequence[int]) -> bool:
    now = timezone.now()
    due = WebhookDelivery.objects.filter(webhook_id__in=hook_ids, next_attempt_at__lte=now)
    return due.filter(webhook__enabled=True).exists()


def retry_delay(attempt: int) -> float:
    """Seconds before try `attempt + 1`: base x 3^(attempt-1), capped, plus up to 25 %
    jitter (only ever added, so the schedule's total is a floor)."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 3 ** (attempt - 1)
    delay = min(base, settings.WEBHOOK_RETRY_MAX_SECONDS)
    return delay * (1 + secrets.randbelow(1000) / 4000)


@transaction.atomic
def delivery_settle(*, delivery_id: int, status_code: int | None, error: str) -> bool:
    """Write one try's answer; after WEBHOOK_DISABLE_AFTER failures in a row the hook goes
    off (`webhook.disabled`). True when the hook is still on."""
    delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None:
        return False  # the hook was deleted while its delivery was under way
    hook = Webhook.objects.select_for_update(no_key=True).get(pk=delivery.webhook_id)
    now = timezone.now()
    delivery.attempt += 1
    delivery.status_code = status_code
    delivery.error = error[:255]
    if not error:
        delivery.delivered_at, delivery.next_attempt_at = now, None
        hook.failures_in_a_row = 0
    else:
        hook.failures_in_a_row += 1
        if delivery.attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.given_up_at, delivery.next_attempt_at = now, None
        else:
            delivery.next_attempt_at = now + timezone.timedelta(
                seconds=retry_delay(delivery.attempt)
            )
    switched_off = hook.enabled and hook.failures_in_a_row >= settings.WEBHOOK_DISABLE_AFTER
    if switched_off:
        hook.enabled = False
        hook.disabled_reason = (
            f"{hook.failures_in_a_row} failed deliveries in a row; the last: {error}"
        )[:255]
    delivery.save()
    hook.save(update_fields=["failures_in_a_row", "enabled", "disabled_reason"])
    if switched_off:  # recorded once the row says so: its reactions read it
        record(WEBHOOK_DISABLED, webhook_id=hook.pk, user_id=hook.user_id)
    return hook.enabled


KEEP = 50  # deliveries kept per hook


def deliveries_prune(hook_id: int) -> int:
    """Keep the newest KEEP finished deliveries of the hook (and every one still owed: pruning
    never loses a delivery)."""
    finished = WebhookDelivery.objects.filter(webhook_id=hook_id, next_attempt_at__isnull=True)
    edge = finished.order_by("-id").values_list("id", flat=True)[KEEP : KEEP + 1]
    if not edge:
        return 0
    deleted, _ = finished.filter(id__lte=edge[0]).delete()
    return deleted
