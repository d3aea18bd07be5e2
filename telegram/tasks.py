"""Thin, idempotent Celery entry points; the work is in `telegram.services`."""

from celery import shared_task

from core.tasks import RETRY_POLICY
from telegram.services import notifications_decide


@shared_task(name="telegram.decide", **RETRY_POLICY)
def decide_notifications() -> int:
    """Owe the reminders and "fix it" notes of instances that became pending or missed.

    Queued after every sweep that moved instances (config/reactions.py), and run by beat on
    its own, so a queued run lost with the broker is made up within a period."""
    return notifications_decide()
