"""Snooze (SPEC §8): one more reminder of an open instance, at a time its owner chose."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from instances.models import OPEN_STATUSES, HabitInstance
from instances.selectors import instance_locked
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from telegram.services.messages import _local_hhmm

SNOOZE_MIN_MINUTES, SNOOZE_MAX_MINUTES = 5, 720


@dataclass(frozen=True)
class Snoozed:
    instance: HabitInstance  # habit and user loaded
    remind_at: datetime

    @property
    def local_time(self) -> str:
        """`remind_at` on the owner's clock, HH:MM."""
        return _local_hhmm(self.remind_at, self.instance.user.timezone)


@transaction.atomic
def instance_snooze(
    *, instance_id: int, user_id: int, minutes: int, now: datetime | None = None
) -> Snoozed:
    """Owe the owner one more reminder `minutes` from now: an outbox row due then, if they have
    Telegram (else nothing is sent: no other channel reminds). Sent only if the instance is
    still open and its fix deadline not passed by then (outbox_claim checks at sending time).

    The instance row is locked, so a completion or skip racing the snooze comes after it and
    gives the new row up in its own transaction (reminders_settle), or comes first and is
    refused here. Not theirs: NotFound; not open: Conflict; a reminder past the fix deadline,
    or `minutes` out of range: InvalidInput naming `minutes`."""
    now = now or timezone.now()
    instance = instance_locked(instance_id=instance_id, user_id=user_id, related=("habit", "user"))
    if instance.status not in OPEN_STATUSES:
        raise Conflict(f"This instance is {instance.status}; only an open instance can be snoozed.")
    if not SNOOZE_MIN_MINUTES <= minutes <= SNOOZE_MAX_MINUTES:
        raise InvalidInput.field(
            "minutes", f"must be from {SNOOZE_MIN_MINUTES} to {SNOOZE_MAX_MINUTES}"
        )
    remind_at = now + timedelta(minutes=minutes)
    if remind_at > instance.fix_deadline:
        until = _local_hhmm(instance.fix_deadline, instance.user.timezone)
        raise InvalidInput.field(
            "minutes", f"a reminder then would come after the fix deadline ({until}); snooze less"
        )
    profile = TelegramProfile.objects.filter(user_id=user_id).first()
    if profile is not None:
        # Due later, not now: the bot's poll finds it then (no poke).
        OutboxMessage.objects.create(
            kind=OutboxKind.SNOOZE, instance=instance, telegram_id=profile.telegram_id,
            access_hash=profile.access_hash, next_attempt_at=remind_at,
        )  # fmt: skip
    return Snoozed(instance=instance, remind_at=remind_at)
