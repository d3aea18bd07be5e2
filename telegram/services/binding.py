"""Binding a Telegram account: bind codes, redeeming one from the bot, unbinding."""

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core import counters
from core.errors import TooManyRequests
from core.events import record
from telegram.events import TELEGRAM_BOUND, TELEGRAM_UNBOUND
from telegram.models import BindCode, TelegramProfile

BIND_CODE_TTL = timedelta(minutes=10)
# Crockford's base32: no I, L, O, U, so a person cannot misread it; 10 symbols = 50 bits.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10


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
