"""The feed's secret (SPEC §9): made, replaced, revoked. Stored only as its SHA-256."""

import hashlib
import secrets

from django.utils import timezone

from accounts.models import User
from calendars.models import CalendarFeed

# 32 random bytes: 256 bits, 43 URL-safe characters (the spec asks for at least 128 bits).
SECRET_BYTES = 32


def secret_hash(secret: str) -> str:
    """What is stored and looked up for a secret. A plain SHA-256 is enough: the secret is
    random with 256 bits, so there is no dictionary to try and no need of a slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_renew(*, user: User) -> str:
    """A new secret for the user's feed, replacing the old one (whose URL stops at once).
    Returns the secret, the only time it exists outside the request."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    # One INSERT ... ON CONFLICT (user) DO UPDATE: two presses at once leave one row, the
    # last one's, on PostgreSQL and SQLite alike, without a lock of our own.
    CalendarFeed.objects.bulk_create(
        [CalendarFeed(user=user, secret_hash=secret_hash(secret), created_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["secret_hash", "created_at"],
    )
    return secret


def feed_revoke(*, user: User) -> None:
    """No feed left for the user; nothing to do when there was none."""
    CalendarFeed.objects.filter(user=user).delete()
