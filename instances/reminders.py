"""When an instance's reminder offsets fall due (SPEC §8): instants, plus whole minutes.

Offset 0 is the reminder sent when the instance becomes pending (telegram's decision on the
sweep's change, `reminded_at`); every other offset is read through `next_reminder_at`, the
moment of the earliest one not yet decided (an index on it keeps the decision's cost to the
rows that are due).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta


def extra_offsets(reminders: Iterable[int]) -> list[int]:
    """The offsets other than 0, ascending."""
    return sorted(o for o in reminders if o != 0)


def reminder_next(
    *, scheduled_at: datetime, reminders: Iterable[int], after: datetime, strict: bool
) -> datetime | None:
    """The earliest moment of an offset other than 0 at or after `after` (`strict`: after
    it), or None when none is left."""
    for offset in extra_offsets(reminders):
        at = scheduled_at + timedelta(minutes=offset)
        if at > after or (at == after and not strict):
            return at
    return None


def reminders_due(
    *, scheduled_at: datetime, reminders: Iterable[int], since: datetime, now: datetime
) -> list[int]:
    """The offsets other than 0 whose moment is in `since..now`, ascending."""
    return [
        o for o in extra_offsets(reminders) if since <= scheduled_at + timedelta(minutes=o) <= now
    ]
