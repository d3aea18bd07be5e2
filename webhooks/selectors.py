"""Reads of the webhooks for the other layers (config/reactions.py)."""

from webhooks.models import Webhook


def webhook_disabled_data(*, webhook_id: int) -> dict | None:
    """The `webhook.disabled` frame's data (None: the hook is gone by now)."""
    hook = Webhook.objects.filter(pk=webhook_id).values("id", "url", "disabled_reason").first()
    if hook is None:
        return None
    return {"id": hook["id"], "url": hook["url"], "reason": hook["disabled_reason"]}
