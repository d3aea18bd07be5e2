"""A user's webhooks and the deliveries owed to them (an outbox: written with the change,
sent by the worker after the commit)."""

import uuid

from django.conf import settings
from django.db import models


def _delivery_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Webhook(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)  # frame types, e.g. ["instance.updated"]
    # `whsec_<base64>`, kept as given: signing needs the key itself (docs/DECISIONS.md).
    secret = models.CharField(max_length=80)
    enabled = models.BooleanField(default=True)
    failures_in_a_row = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=255, blank=True, default="")
    # A worker owns the hook's sending until then (one sender per hook at a time; a killed
    # worker's claim runs out and the next pass takes the hook over).
    busy_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "enabled"])]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    # No database constraint: an insert checking one would lock its hook's row (FOR KEY SHARE),
    # and the completions of a busy user would all queue on their few hooks' rows. Deleting a
    # hook still deletes its deliveries (Django's cascade); a delivery written by a change
    # racing that delete is never sent (the sender joins the hook) and pruned as an orphan.
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False
    )
    event = models.CharField(max_length=40)  # the frame type
    payload = models.JSONField()  # `{"type", "timestamp", "data"}`, fixed: every try sends it
    # The `webhook-id` header: the same on every try, so a receiver can drop duplicates.
    # Unique by its 128 random bits, not by an index: nothing looks a delivery up by it, and a
    # unique index of random text cost a hooked completion a fifth of its insert (measured).
    message_id = models.CharField(max_length=40, default=_delivery_id)
    attempt = models.PositiveIntegerField(default=0)  # tries made so far
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # None: done or given up
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["webhook", "next_attempt_at"],
                name="webhooks_due",
                condition=models.Q(next_attempt_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.message_id}"
