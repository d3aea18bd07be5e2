"""The messages the bot sends: their texts and whether they carry the Done and Skip buttons
(and the snooze buttons under them)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from instances.models import HabitInstance, Status
from instances.selectors import instance_previous_resolved
from telegram.models import REMINDER_KINDS, OutboxKind, OutboxMessage

# The snooze buttons under a reminder, in minutes ("+15 min", "+1 h"); each shown only while
# the reminder it asks for would still come before the fix deadline.
SNOOZE_BUTTONS = (15, 60)
NOT_TWICE = "Last time was missed: this is the one not to miss twice."


@dataclass(frozen=True)
class Delivery:
    """What the bot needs to send one outbox message."""

    id: int
    kind: str
    telegram_id: int
    access_hash: int
    instance_id: int
    text: str
    edit_message_id: int | None
    with_button: bool  # the Done and Skip buttons
    snooze_minutes: tuple[int, ...] = ()  # the snooze buttons (with the others)
    # When it fell due (before the claim's lease): a message given back keeps its place.
    due_at: datetime | None = None


def _local_hhmm(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def finished_text(*, action: str, done: int, limit: int) -> str:
    return f"🏁 Course finished: {done} of {limit} done — {action}."[:255]


def _missed_last_time(instance: HabitInstance) -> bool:
    """Never miss twice (SPEC §8): the habit's newest resolved instance before this one was
    missed or expired."""
    previous = instance_previous_resolved(instance=instance)
    return previous is not None and previous.status in (Status.MISSED, Status.FIX_EXPIRED)


def _text(message: OutboxMessage) -> str:
    if message.text:
        return message.text
    instance = message.instance
    habit, tz = instance.habit, instance.user.timezone
    where = f" ({habit.place})" if habit.place else ""
    offset = (message.offset_minutes or 0) if message.kind == OutboxKind.REMINDER else 0
    if message.kind in (OutboxKind.REMINDER, OutboxKind.SNOOZE):
        if offset < 0:
            text = (
                f"⏰ Coming up at {_local_hhmm(instance.scheduled_at, tz)}: {habit.action}{where}."
            )
        elif offset > habit.grace_minutes:
            until = _local_hhmm(instance.fix_deadline, tz)
            text = f"⏰ Still open: {habit.action}{where}. Fix it until {until}."
        elif instance.status == Status.MISSED:  # a snooze within the fix window
            text = f"⏰ Still time for: {habit.action}{where}. Fix it until "
            text += f"{_local_hhmm(instance.fix_deadline, tz)}."
        else:
            until = _local_hhmm(instance.grace_deadline, tz)
            text = f"⏰ Time for: {habit.action}{where}. Done by {until}."
        return f"{text} {NOT_TWICE}" if _missed_last_time(instance) else text
    if message.kind == OutboxKind.MISSED:
        until = _local_hhmm(instance.fix_deadline, tz)
        return f"You missed: {habit.action}{where}. Fix it until {until}."
    if message.kind == OutboxKind.SKIPPED:
        return f"⏭ {habit.action}{where}: skipped."
    return f"✅ {habit.action}{where}: done."


def _delivery(message: OutboxMessage, now: datetime) -> Delivery:
    still_open = message.instance.status in (Status.SCHEDULED, Status.PENDING, Status.MISSED)
    with_button = message.kind in REMINDER_KINDS and still_open
    deadline = message.instance.fix_deadline
    return Delivery(
        id=message.pk,
        kind=message.kind,
        telegram_id=message.telegram_id,
        access_hash=message.access_hash,
        instance_id=message.instance_id,
        text=_text(message),
        edit_message_id=message.edits.message_id if message.edits else None,
        with_button=with_button,
        snooze_minutes=tuple(
            m for m in SNOOZE_BUTTONS if with_button and now + timedelta(minutes=m) <= deadline
        ),
        due_at=message.next_attempt_at,
    )
