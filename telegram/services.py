"""Binding a Telegram account, and the outbox of messages the bot owes its users."""

import enum
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core import counters
from core.errors import TooManyRequests
from core.events import record
from instances.models import HabitInstance, Status
from telegram.events import OUTBOX_READY, TELEGRAM_BOUND, TELEGRAM_UNBOUND
from telegram.models import BindCode, OutboxKind, OutboxMessage, TelegramProfile

logger = logging.getLogger(__name__)

BIND_CODE_TTL = timedelta(minutes=10)
# Crockford's base32: no I, L, O, U, so a person cannot misread it; 10 symbols = 50 bits.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
NOTIFY_BATCH = 5_000


# --- bind codes ----------------------------------------------------------------------------


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def _count_attempt(kind: str, subject: int, *, limit: int) -> int:
    """Count one attempt; 0 while within `limit` per window, else the seconds to wait."""
    key = counters.counter_key(kind, str(subject))
    window = settings.TELEGRAM_BIND_WINDOW_SECONDS
    return counters.take(counters.Limit(key, limit, window), what="telegram throttle")


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime
    link: str


def bind_code_issue(*, user: User) -> IssuedCode:
    """A new single-use code for 10 minutes; the user's previous code stops working."""
    wait = _count_attempt("tg-code", user.pk, limit=settings.TELEGRAM_CODES_PER_WINDOW)
    if wait:
        raise TooManyRequests("Too many bind codes asked for; try again later.", retry_after=wait)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = timezone.now() + BIND_CODE_TTL
    BindCode.objects.update_or_create(
        user=user, defaults={"code_hash": _hash(code), "expires_at": expires_at}
    )
    return IssuedCode(
        code, expires_at, f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start={code}"
    )


class BindOutcome(enum.Enum):
    BOUND = "bound"
    INVALID = "invalid"  # unknown, used, replaced or expired: one answer for all
    THROTTLED = "throttled"
    TAKEN = "taken"  # this Telegram account is bound to another user


@dataclass(frozen=True)
class TelegramSender:
    telegram_id: int
    access_hash: int
    username: str


def bind_redeem(*, code: str, sender: TelegramSender) -> BindOutcome:
    """Bind the sender's Telegram account to the code's owner, once."""
    if _count_attempt("tg-bind", sender.telegram_id, limit=settings.TELEGRAM_BIND_ATTEMPTS):
        return BindOutcome.THROTTLED
    try:
        return _redeem(code=code, sender=sender)
    except IntegrityError:  # the same account bound elsewhere at the same moment
        return BindOutcome.TAKEN


@transaction.atomic
def _redeem(*, code: str, sender: TelegramSender) -> BindOutcome:
    bind = (
        BindCode.objects.select_for_update(of=("self",))
        # A deactivated user's code binds nothing: the bot does not serve them.
        .filter(code_hash=_hash(code), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    if bind is None:
        return BindOutcome.INVALID
    other = TelegramProfile.objects.filter(telegram_id=sender.telegram_id).exclude(
        user_id=bind.user_id
    )
    if other.exists():
        return BindOutcome.TAKEN
    bind.delete()
    TelegramProfile.objects.update_or_create(
        user_id=bind.user_id,
        defaults={"telegram_id": sender.telegram_id, "access_hash": sender.access_hash,
                  "username": sender.username},
    )  # fmt: skip
    record(TELEGRAM_BOUND, user_id=bind.user_id)
    return BindOutcome.BOUND


@transaction.atomic
def telegram_unbind(*, user: User) -> bool:
    deleted, _ = TelegramProfile.objects.filter(user=user).delete()
    if deleted:
        record(TELEGRAM_UNBOUND, user_id=user.pk)
    return bool(deleted)


def profile_for(*, telegram_id: int) -> TelegramProfile | None:
    """The sender's binding, if the bot serves them: a deactivated user's chat is answered as
    if it were not linked (the binding stays, for a re-activation)."""
    profiles = TelegramProfile.objects.filter(telegram_id=telegram_id, user__is_active=True)
    return profiles.select_related("user").first()


# --- the outbox ------------------------------------------------------------------------------

NOTIFICATIONS = (
    (OutboxKind.REMINDER, Status.PENDING, "reminded_at"),
    (OutboxKind.MISSED, Status.MISSED, "missed_notified_at"),
)


def _undecided(status: str, decided_field: str) -> list[int]:
    undecided = HabitInstance.objects.filter(status=status, **{f"{decided_field}__isnull": True})
    return list(
        undecided.select_for_update(skip_locked=True).values_list("id", flat=True)[:NOTIFY_BATCH]
    )


def _owe(kind: str, ids: list[int], now: datetime) -> int:
    """Outbox rows for those of `ids` whose owner has Telegram (a paused habit or a
    deactivated user is owed nothing)."""
    owed_to = HabitInstance.objects.filter(pk__in=ids, habit__is_active=True, user__is_active=True)
    profiles = {
        p.user_id: p for p in TelegramProfile.objects.filter(user__in=owed_to.values("user"))
    }
    rows = [
        OutboxMessage(kind=kind, instance_id=pk, telegram_id=profiles[user_id].telegram_id,
                      access_hash=profiles[user_id].access_hash, next_attempt_at=now)
        for pk, user_id in owed_to.values_list("id", "user_id")
        if user_id in profiles
    ]  # fmt: skip
    OutboxMessage.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def notifications_decide(*, now: datetime | None = None) -> int:
    """Decide, once per instance, the reminder (pending) and the "fix it" note (missed).

    The decision time is written in the same transaction as the outbox rows, so an
    overlapping sweep finds nothing left to decide: each message is owed exactly once.
    Users without Telegram get the decision recorded and no message.
    """
    now = now or timezone.now()
    owed = 0
    for kind, status, decided_field in NOTIFICATIONS:
        ids = _undecided(status, decided_field)
        if ids:
            HabitInstance.objects.filter(pk__in=ids).update(**{decided_field: now})
            owed += _owe(kind, ids, now)
    if owed:
        record(OUTBOX_READY)
    return owed


def reminders_mark_done(*, instance_id: int) -> None:
    """In the completion's transaction (telegram's reaction to `instance.completed`): unsent
    reminders of it are dropped, sent ones get an edit saying it is done (whoever completed
    it: web, bot or API)."""
    now = timezone.now()
    earlier = OutboxMessage.objects.filter(
        instance_id=instance_id, kind__in=[OutboxKind.REMINDER, OutboxKind.MISSED]
    )
    if not earlier.exists():
        return  # never reminded (every instance of a user without Telegram): one query, not two
    earlier.filter(sent_at__isnull=True, given_up_at__isnull=True).update(
        given_up_at=now, last_error="completed before it was sent"
    )
    edits = [
        OutboxMessage(kind=OutboxKind.DONE, instance_id=instance_id, telegram_id=m.telegram_id,
                      access_hash=m.access_hash, edits=m, next_attempt_at=now)
        for m in earlier.filter(sent_at__isnull=False, message_id__isnull=False)
    ]  # fmt: skip
    if edits:
        OutboxMessage.objects.bulk_create(edits)
        record(OUTBOX_READY)


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
    with_button: bool


def _local_hhmm(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def _text(message: OutboxMessage) -> str:
    instance = message.instance
    habit, tz = instance.habit, instance.user.timezone
    where = f" ({habit.place})" if habit.place else ""
    if message.kind == OutboxKind.REMINDER:
        until = _local_hhmm(instance.grace_deadline, tz)
        return f"⏰ Time for: {habit.action}{where}. Done by {until}."
    if message.kind == OutboxKind.MISSED:
        until = _local_hhmm(instance.fix_deadline, tz)
        return f"You missed: {habit.action}{where}. Fix it until {until}."
    return f"✅ {habit.action}{where}: done."


LEASE = timedelta(seconds=60)


@transaction.atomic
def outbox_claim(*, now: datetime | None = None, limit: int = 100) -> list[Delivery]:
    """The due messages, leased for a minute: a crash mid-send retries them after the lease."""
    now = now or timezone.now()
    due = (
        OutboxMessage.objects.filter(
            sent_at__isnull=True, given_up_at__isnull=True, next_attempt_at__lte=now
        )
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("instance__habit", "instance__user", "edits")
        .order_by("next_attempt_at", "id")[:limit]
    )
    claimed = [m for m in due if _still_served(m, now)]
    OutboxMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(next_attempt_at=now + LEASE)
    return [_delivery(m) for m in claimed]


def _still_served(message: OutboxMessage, now: datetime) -> bool:
    """False, and the message given up, when its user was deactivated after it was owed."""
    if message.instance.user.is_active:
        return True
    OutboxMessage.objects.filter(pk=message.pk).update(
        given_up_at=now, last_error="the user is deactivated"
    )
    return False


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
        with_button=message.kind != OutboxKind.DONE and still_open,
    )


def outbox_sent(*, message_id: int, telegram_message_id: int | None) -> None:
    OutboxMessage.objects.filter(pk=message_id).update(
        sent_at=timezone.now(), message_id=telegram_message_id, last_error=""
    )


MAX_ATTEMPTS = 10


def outbox_retry_later(*, message_id: int, seconds: int, error: str) -> None:
    message = OutboxMessage.objects.get(pk=message_id)
    message.attempts += 1
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
