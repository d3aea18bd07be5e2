"""IANA time zone names: the only values a user's `timezone` may take."""

import zoneinfo
from datetime import date, datetime
from functools import cache

from django.core.exceptions import ValidationError
from django.utils import timezone

# In the tz database but not places: their meaning depends on the host or is a test zone.
NOT_PLACES = frozenset({"localtime", "Factory", "posixrules", "posix", "right"})


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in NOT_PLACES and not name.startswith(("posix/", "right/"))
    )


def is_known_timezone(name: str) -> bool:
    return name in known_timezones()


def validate_timezone(name: str) -> None:
    if not is_known_timezone(name):
        raise ValidationError(f"{name!r} is not a known IANA time zone.", code="invalid_timezone")


def local_today(timezone_name: str, at: datetime | None = None) -> date:
    """The calendar date in `timezone_name` at `at` (now by default)."""
    return (at or timezone.now()).astimezone(zoneinfo.ZoneInfo(timezone_name)).date()
