"""Thin, idempotent Celery entry points; the work is in `instances.services`."""

from celery import shared_task

from core.tasks import RETRY_POLICY
from instances import services


@shared_task(name="instances.generate", **RETRY_POLICY)
def generate_instances() -> int:
    """Create every missing instance for every user's current and next local date."""
    return services.instances_generate()


@shared_task(name="instances.sweep", **RETRY_POLICY)
def sweep_instances() -> int:
    """Move due instances to pending, missed or fix_expired (their messages are Telegram's
    reaction: config/reactions.py queues `telegram.decide`, and beat runs it too)."""
    return services.instances_sweep()
