"""Thin, idempotent Celery entry points; the work is in `instances.services`."""

import redis
from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from instances import services

# The database or Redis being away is worth a retry with backoff; anything else is a bug.
RETRYABLE = (OperationalError, InterfaceError, redis.RedisError, ConnectionError)
RETRY_POLICY = {
    "autoretry_for": RETRYABLE,
    "retry_backoff": settings.TASK_RETRY_BACKOFF_SECONDS,
    "retry_backoff_max": settings.TASK_RETRY_BACKOFF_MAX_SECONDS,
    "retry_jitter": True,
    # Then Celery logs the failure and drops the task: beat's next tick covers the work.
    "max_retries": settings.TASK_MAX_RETRIES,
    "acks_late": True,  # safe: both tasks are idempotent
}


@shared_task(name="instances.generate", **RETRY_POLICY)
def generate_instances() -> int:
    """Create every missing instance for every user's current and next local date."""
    return services.instances_generate()


@shared_task(name="instances.sweep", **RETRY_POLICY)
def sweep_instances() -> int:
    """Move due instances to pending, missed or fix_expired, then decide their messages."""
    from telegram.services import notifications_decide  # telegram builds on instances

    moved = services.instances_sweep()
    notifications_decide()
    return moved


@shared_task(name="instances.announce", **RETRY_POLICY)
def announce_instances(type: str, ids: list[int]) -> None:
    """Send the frames of a big batch of changed instances (after the change committed)."""
    from instances.events import instances_announce

    instances_announce(type=type, ids=ids)
