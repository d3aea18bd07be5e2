"""Binding a Telegram account, and the outbox of messages the bot owes its users.

binding.py   bind codes, redeeming one from the bot, unbinding
outbox.py    reminders decided once, claimed, marked sent, retried or given up
messages.py  the texts and the done button of what the bot sends
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
    notifications_decide,
    outbox_claim,
    outbox_give_up,
    outbox_retry_later,
    outbox_sent,
    reminders_mark_done,
)

__all__ = [
    "BIND_CODE_TTL",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "LEASE",
    "MAX_ATTEMPTS",
    "NOTIFY_BATCH",
    "BindOutcome",
    "Delivery",
    "IssuedCode",
    "TelegramSender",
    "bind_code_issue",
    "bind_redeem",
    "notifications_decide",
    "outbox_claim",
    "outbox_give_up",
    "outbox_retry_later",
    "outbox_sent",
    "profile_for",
    "reminders_mark_done",
    "telegram_unbind",
]
