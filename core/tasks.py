"""What every Celery task of the project shares: the retry policy."""

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError

# The database or Redis being away is worth a retry with backoff; anything else is a bug.
RETRYABLE = (OperationalError, InterfaceError, redis.RedisError, ConnectionError)
RETRY_POLICY = {
    "autoretry_for": RETRYABLE,
    "retry_backoff": settings.TASK_RETRY_BACKOFF_SECONDS,
    "retry_backoff_max": settings.TASK_RETRY_BACKOFF_MAX_SECONDS,
    "retry_jitter": True,
    # Then Celery logs the failure and drops the task: beat's next tick covers the work.
    "max_retries": settings.TASK_MAX_RETRIES,
    "acks_late": True,  # safe: every task of the project is idempotent
}
