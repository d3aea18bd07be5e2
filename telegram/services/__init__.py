"""Binding a Telegram account, and the outbox of messages the bot owes its users.

binding.py   bind codes, redeeming one from the bot, unbinding
outbox.py    reminders decided once, claimed, marked sent, retried or given up; the edits
             saying an instance was done or skipped; a finished course's result
messages.py  the texts of what the bot sends, and whether it carries the buttons
snooze.py    one more reminder of an open instance, when its owner asks (API and bot)
"""

from telegram.services.binding import (
    BIND_CODE_TTL,
    CODE_ALPHABET,
    CODE_LENGTH,
    BindOutcome,
    IssuedCode,
    TelegramSender,
    bind_code_issue,
    bind_redeem,
    profile_for,
    telegram_unbind,
)
from telegram.services.messages import Delivery
from telegram.services.outbox import (
    LEASE,
    MAX_ATTEMPTS,
    NOTIFY_BATCH,
    cue_reminders_owe,
    notice_owe,
    notifications_decide,
    outbox_claim,
    outbox_give_up,
    outbox_release,
    outbox_retry_later,
    outbox_sent,
    program_finished_owe,
    reminders_settle,
)
from telegram.services.snooze import (
    SNOOZE_MAX_MINUTES,
    SNOOZE_MIN_MINUTES,
    Snoozed,
    instance_snooze,
)

__all__ = [
    "BIND_CODE_TTL",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "LEASE",
    "MAX_ATTEMPTS",
    "NOTIFY_BATCH",
    "SNOOZE_MAX_MINUTES",
    "SNOOZE_MIN_MINUTES",
    "BindOutcome",
    "Delivery",
    "IssuedCode",
    "Snoozed",
    "TelegramSender",
    "bind_code_issue",
    "bind_redeem",
    "cue_reminders_owe",
    "instance_snooze",
    "notice_owe",
    "notifications_decide",
    "outbox_claim",
    "outbox_give_up",
    "outbox_release",
    "outbox_retry_later",
    "outbox_sent",
    "profile_for",
    "program_finished_owe",
    "reminders_settle",
    "telegram_unbind",
]
