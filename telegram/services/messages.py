"""The messages the bot sends: their texts and whether they carry the Done and Skip buttons."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from instances.models import Status
from telegram.models import REMINDER_KINDS, OutboxKind, OutboxMessage


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


def _local_hhmm(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def finished_text(*, action: str, done: int, limit: int) -> str:
    return f"🏁 Course finished: {done} of {limit} done — {action}."[:255]


def _text(message: OutboxMessage) -> str:
    if message.text:
        return message.text
    instance = message.instance
    habit, tz = instance.habit, instance.user.timezone
    where = f" ({habit.place})" if habit.place else ""
    if message.kind == OutboxKind.REMINDER and (message.offset_minutes or 0) < 0:
        at = _local_hhmm(instance.scheduled_at, tz)
        return f"⏰ Coming up at {at}: {habit.action}{where}."
    if message.kind == OutboxKind.REMINDER and (message.offset_minutes or 0) > habit.grace_minutes:
        until = _local_hhmm(instance.fix_deadline, tz)
        return f"⏰ Still open: {habit.action}{where}. Fix it until {until}."
    if message.kind == OutboxKind.REMINDER:
        until = _local_hhmm(instance.grace_deadline, tz)
        return f"⏰ Time for: {habit.action}{where}. Done by {until}."
    if message.kind == OutboxKind.MISSED:
        until = _local_hhmm(instance.fix_deadline, tz)
        return f"You missed: {habit.action}{where}. Fix it until {until}."
    if message.kind == OutboxKind.SKIPPED:
        return f"⏭ {habit.action}{where}: skipped."
    return f"✅ {habit.action}{where}: done."


def _delivery(message: OutboxMessage) -> Delivery:
    still_open = message.instance.status in (Status.SCHEDULED, Status.PENDING, Status.MISSED)
    return Delivery(
        id=message.pk,
        kind=message.kind,
        telegram_id=message.telegram_id,
        access_hash=message.access_hash,
        instance_id=message.instance_id,
        text=_text(message),
        edit_message_id=message.edits.message_id if message.edits else None,
        with_button=message.kind in REMINDER_KINDS and still_open,
    )
