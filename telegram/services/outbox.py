"""The outbox of messages the bot owes its users: decided once, claimed, sent or given up."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.quiet_hours import hhmm, quiet_hours_end
from core.events import record
from instances.models import FINAL_STATUSES, OPEN_STATUSES, HabitInstance, Status
from telegram.events import OUTBOX_READY
from telegram.models import REMINDER_KINDS, OutboxKind, OutboxMessage, TelegramProfile
from telegram.services.messages import Delivery, _delivery, finished_text
from telegram.services.offsets import NOTIFY_BATCH, owe_offsets

logger = logging.getLogger(__name__)

# An instance in one of these is owed no reminder any more.
SETTLED = (Status.SKIPPED, *FINAL_STATUSES)

NOTIFICATIONS = (
    (OutboxKind.REMINDER, Status.PENDING, "reminded_at"),
    (OutboxKind.MISSED, Status.MISSED, "missed_notified_at"),
)


def _undecided(status: str, decided_field: str) -> list[int]:
    undecided = HabitInstance.objects.filter(status=status, **{f"{decided_field}__isnull": True})
    return list(
        undecided.select_for_update(skip_locked=True).values_list("id", flat=True)[:NOTIFY_BATCH]
    )


def _profiles(user_ids: Iterable[int]) -> dict[int, TelegramProfile]:
    return {p.user_id: p for p in TelegramProfile.objects.filter(user_id__in=set(user_ids))}


def _owe(kind: str, ids: list[int], now: datetime) -> int:
    """Outbox rows for those of `ids` whose owner has Telegram (a paused habit or a
    deactivated user is owed nothing). The reminder on becoming pending is offset 0: owed
    only when the habit has it."""
    owed_to = HabitInstance.objects.filter(pk__in=ids, habit__is_active=True, user__is_active=True)
    found = list(owed_to.values_list("id", "user_id", "habit__reminders"))
    profiles = _profiles(user_id for _, user_id, _ in found)
    offset = 0 if kind == OutboxKind.REMINDER else None
    rows = [
        OutboxMessage(kind=kind, instance_id=pk, telegram_id=profiles[user_id].telegram_id,
                      access_hash=profiles[user_id].access_hash, next_attempt_at=now,
                      offset_minutes=offset)
        for pk, user_id, reminders in found
        if user_id in profiles and (offset is None or 0 in reminders)
    ]  # fmt: skip
    # A row for the same (instance, offset) already there: an overlapping decision won.
    return len(OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True))


@transaction.atomic
def notifications_decide(*, now: datetime | None = None) -> int:
    """Decide, once per instance, the reminder (pending) and the "fix it" note (missed).

    The decision time is written in the same transaction as the outbox rows, so an
    overlapping sweep finds nothing left to decide: each message is owed exactly once.
    Users without Telegram get the decision recorded and no message. The habit's other
    reminder offsets (SPEC §8) are decided here too, each at its moment (`_owe_offsets`).
    """
    now = now or timezone.now()
    owed = owe_offsets(now)
    for kind, status, decided_field in NOTIFICATIONS:
        ids = _undecided(status, decided_field)
        if ids:
            HabitInstance.objects.filter(pk__in=ids).update(**{decided_field: now})
            owed += _owe(kind, ids, now)
    if owed:
        record(OUTBOX_READY)
    return owed


# What an edit of them says happened (the `kind` of the edit).
OUTCOMES = {OutboxKind.DONE: "completed", OutboxKind.SKIPPED: "skipped"}


def reminders_settle(*, instance_ids: Iterable[int], outcome: OutboxKind) -> None:
    """In the transaction that completed or skipped the instances (telegram's reaction to
    `instance.completed` and `instance.skipped`): their unsent reminders are given up, the
    sent ones get an edit saying the outcome (`DONE` or `SKIPPED`), whoever caused it: web,
    bot, API or a pause."""
    now = timezone.now()
    earlier = OutboxMessage.objects.filter(
        instance_id__in=list(instance_ids), kind__in=REMINDER_KINDS
    )
    if not earlier.exists():
        return  # never reminded (every instance of a user without Telegram): one query, not two
    earlier.filter(sent_at__isnull=True, given_up_at__isnull=True).update(
        given_up_at=now, last_error=f"{OUTCOMES[outcome]} before it was sent"
    )
    edits = [
        OutboxMessage(kind=outcome, instance_id=m.instance_id, telegram_id=m.telegram_id,
                      access_hash=m.access_hash, edits=m, next_attempt_at=now)
        for m in earlier.filter(sent_at__isnull=False, message_id__isnull=False)
    ]  # fmt: skip
    if edits:
        OutboxMessage.objects.bulk_create(edits)
        record(OUTBOX_READY)


def program_finished_owe(*, habit_id: int, user_id: int, done: int, limit: int) -> None:
    """In the transaction that finished the habit's course (telegram's reaction to
    `program.finished`): the bound owner is owed the result, once per result (told the same
    again, nothing; a course lengthened and finished anew, its new result). The message
    hangs on the course's last counted instance, as every outbox row hangs on an instance
    (its user is checked again when it is sent). A user without Telegram: nothing."""
    profile = TelegramProfile.objects.filter(user_id=user_id, user__is_active=True).first()
    if profile is None:
        return
    instances = HabitInstance.objects.filter(habit_id=habit_id).select_related("habit")
    last = (
        instances.exclude(status=Status.SKIPPED).order_by("-date").first()
        or instances.order_by("-date").first()
    )
    if last is None:
        return
    text = finished_text(action=last.habit.action, done=done, limit=limit)
    told = OutboxMessage.objects.filter(
        kind=OutboxKind.FINISHED, instance__habit_id=habit_id, text=text
    )
    if told.exists():
        return
    OutboxMessage.objects.create(
        kind=OutboxKind.FINISHED, instance=last, telegram_id=profile.telegram_id,
        access_hash=profile.access_hash, next_attempt_at=timezone.now(), text=text,
    )  # fmt: skip
    record(OUTBOX_READY)


def notice_owe(*, user_id: int, text: str) -> None:
    """In the transaction that decided it (e.g. a webhook switched off): the bound owner is
    owed a notice. It hangs on the owner's latest instance, as every outbox row hangs on one
    (no instance at all: nothing, there is no row to hang it on). Not a reminder: no buttons,
    and quiet hours do not hold it. A user without Telegram: nothing."""
    profile = TelegramProfile.objects.filter(user_id=user_id, user__is_active=True).first()
    if profile is None:
        return
    latest = HabitInstance.objects.filter(user_id=user_id).order_by("-scheduled_at").first()
    if latest is None:
        return
    OutboxMessage.objects.create(
        kind=OutboxKind.NOTICE, instance=latest, telegram_id=profile.telegram_id,
        access_hash=profile.access_hash, next_attempt_at=timezone.now(), text=text[:255],
    )  # fmt: skip
    record(OUTBOX_READY)


def cue_text(*, cue_action: str, action: str, place: str) -> str:
    where = f" at {place}" if place else ""
    return f"After {cue_action}: {action}{where}"[:255]


def cue_reminders_owe(*, instance_ids: Iterable[int]) -> None:
    """In the transaction that completed the instances (telegram's reaction to
    `instance.completed`): each habit stacked on a completed one (its `cue_habit`) has its
    open instance on the same local date reminded at completion + its `cue_delay_minutes`,
    once per instance (a unique row; a retried completion records nothing anyway). One read
    (nothing stacked, or an owner without Telegram: nothing more)."""
    cue = "habit__cue_habit__instances__"
    stacked = (
        HabitInstance.objects.filter(
            **{f"{cue}pk__in": list(instance_ids), f"{cue}completed_at__isnull": False},
            date=F(f"{cue}date"), status__in=OPEN_STATUSES, habit__is_active=True,
            user__is_active=True, user__telegram__isnull=False,
        )
        .annotate(
            cue_done_at=F(f"{cue}completed_at"), cue_action=F("habit__cue_habit__action"),
            telegram_id=F("user__telegram__telegram_id"),
            access_hash=F("user__telegram__access_hash"),
        )
        .select_related("habit")
    )  # fmt: skip
    owed = [
        OutboxMessage(
            kind=OutboxKind.CUE, instance=instance, telegram_id=instance.telegram_id,
            access_hash=instance.access_hash,
            next_attempt_at=instance.cue_done_at
            + timedelta(minutes=instance.habit.cue_delay_minutes),
            text=cue_text(cue_action=instance.cue_action, action=instance.habit.action,
                          place=instance.habit.place),
        )
        for instance in stacked
    ]  # fmt: skip
    if owed:
        OutboxMessage.objects.bulk_create(owed, ignore_conflicts=True)
        record(OUTBOX_READY)


LEASE = timedelta(seconds=60)


@transaction.atomic
def outbox_claim(*, now: datetime | None = None, limit: int = 100) -> list[Delivery]:
    """The due messages, leased for a minute: a crash mid-send retries them after the lease.
    Those no longer served are given up, and reminders due in their owner's quiet hours are
    moved to their end (or given up), here, under the row lock: each is claimed once."""
    now = now or timezone.now()
    due = (
        OutboxMessage.objects.filter(
            sent_at__isnull=True, given_up_at__isnull=True, next_attempt_at__lte=now
        )
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("instance__habit", "instance__user", "edits")
        .order_by("next_attempt_at", "id")[:limit]
    )
    claimed = [m for m in due if _still_served(m, now) and not _held_for_quiet_hours(m, now)]
    OutboxMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(next_attempt_at=now + LEASE)
    return [_delivery(m, now) for m in claimed]


def _still_served(message: OutboxMessage, now: datetime) -> bool:
    """False, and the message given up, when its user was deactivated after it was owed, or
    when it is a reminder of an instance that was skipped, done or expired meanwhile (the
    reaction to the change gives such reminders up in its transaction; this holds whatever
    path the change took); a snooze also once the fix deadline has passed, and a first
    reminder once the instance is missed (held by quiet hours: its missed note says it)."""
    instance = message.instance
    if not instance.user.is_active:
        error = "the user is deactivated"
    elif message.kind in REMINDER_KINDS and instance.status in SETTLED:
        error = f"the instance is {instance.status}"
    elif message.kind == OutboxKind.SNOOZE and now > instance.fix_deadline:
        error = "the fix deadline passed"
    elif message.kind == OutboxKind.REMINDER and instance.status == Status.MISSED:
        error = "the instance is missed by now: its missed note tells it"
    else:
        return True
    OutboxMessage.objects.filter(pk=message.pk).update(given_up_at=now, last_error=error)
    return False


def _held_for_quiet_hours(message: OutboxMessage, now: datetime) -> bool:
    """True when a reminder-like message is due inside its owner's quiet hours: it waits until
    they end (in the owner's zone) if the instance's fix deadline is still ahead then, else it
    is given up. Either way `last_error` says so; the next claim looks again (the instance
    may be done by then, or the quiet hours changed)."""
    user = message.instance.user
    if message.kind not in REMINDER_KINDS or user.quiet_hours is None:
        return False
    start, end = user.quiet_hours
    until = quiet_hours_end(start=start, end=end, timezone_name=user.timezone, at=now)
    if until is None:
        return False
    rows = OutboxMessage.objects.filter(pk=message.pk)
    if until < message.instance.fix_deadline:
        rows.update(next_attempt_at=until, last_error=f"quiet hours: waits until {hhmm(end)}")
    else:
        rows.update(
            given_up_at=now,
            last_error=f"quiet hours until {hhmm(end)}: the fix deadline passes before they end",
        )
    return True


def outbox_sent(*, message_id: int, telegram_message_id: int | None) -> None:
    OutboxMessage.objects.filter(pk=message_id).update(
        sent_at=timezone.now(), message_id=telegram_message_id, last_error=""
    )


MAX_ATTEMPTS = 10


def outbox_release(*, message_id: int, due_at: datetime) -> None:
    """A claimed message a stopping relay did not start: due again at `due_at` (when it fell
    due), not after the lease, so the next relay sends it at once and in its place among the
    older ones. A sent one is never released."""
    OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).update(next_attempt_at=due_at)


def outbox_retry_later(*, message_id: int, seconds: int, error: str, counts: bool = True) -> None:
    """Due again in `seconds`. `counts=False` (a FloodWait: Telegram said when, nothing
    failed) does not bring the message nearer to being given up."""
    message = OutboxMessage.objects.get(pk=message_id)
    message.attempts += counts
    message.last_error = error[:255]
    if message.attempts >= MAX_ATTEMPTS:
        message.given_up_at = timezone.now()
        logger.error(
            "telegram: giving up on outbox message %s after %s attempts: %s",
            message_id,
            message.attempts,
            error,
        )
    message.next_attempt_at = timezone.now() + timedelta(seconds=seconds)
    message.save(update_fields=["attempts", "last_error", "given_up_at", "next_attempt_at"])


def outbox_give_up(*, message_id: int, error: str) -> None:
    OutboxMessage.objects.filter(pk=message_id).update(
        given_up_at=timezone.now(), last_error=error[:255]
    )
