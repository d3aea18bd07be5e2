from django.conf import settings
from django.db import models
from django.utils.timezone import now


class CalendarFeed(models.Model):
    """A person's secret calendar feed (SPEC §9): one at most, found by its secret's hash.

    The secret itself is never stored: it is shown once, in the URL the POST answers with.
    A new one replaces the row's hash, so the old URL stops at once; revoking deletes the row.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    # Hex SHA-256 of the secret (calendars/services.py `secret_hash`); unique, so the lookup
    # is one index probe.
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"
