"""Reads of the webhooks for the other layers (config/reactions.py)."""

from webhooks.models import Webhook

# Has the user an enabled hook? Only then may `owe_webhooks` owe a delivery. A fragment of
# the one read of a single instance's change (config/change_probe.py), on %(user)s.
HOOKED_SQL = (
    f"EXISTS (SELECT 1 FROM {Webhook._meta.db_table} w "  # noqa: S608 (names only)
    "WHERE w.user_id = %(user)s AND w.enabled)"
)


def webhook_disabled_data(*, webhook_id: int) -> dict | None:
    """The `webhook.disabled` frame's data (None: the hook is gone by now)."""
    hook = Webhook.objects.filter(pk=webhook_id).values("id", "url", "disabled_reason").first()
    if hook is None:
        return None
    return {"id": hook["id"], "url": hook["url"], "reason": hook["disabled_reason"]}
