from accounts.models import User
from habits.models import Habit
from telegram.models import REMINDER_KINDS, OutboxKind, OutboxMessage, TelegramProfile

# Fragments of the one read that tells a single instance's change which reactions have work
# (config/change_probe.py), on its parameters %(instance)s, %(habit)s and %(user)s.
_REMINDER_KINDS_SQL = ", ".join(f"'{kind}'" for kind in REMINDER_KINDS)  # our enum, no input
# Was the instance ever reminded? Only then has `reminders_settle` anything to settle.
REMINDED_SQL = (
    f"EXISTS (SELECT 1 FROM {OutboxMessage._meta.db_table} m "  # noqa: S608 (names, our enum)
    f"WHERE m.instance_id = %(instance)s AND m.kind IN ({_REMINDER_KINDS_SQL}))"
)
# Is an active habit stacked on this one, of an owner the bot serves? Only then may
# `cue_reminders_owe` owe a cue reminder.
STACKED_SQL = (
    f"EXISTS (SELECT 1 FROM {Habit._meta.db_table} s "  # noqa: S608 (names only)
    f"JOIN {User._meta.db_table} u ON u.id = s.user_id "
    f"JOIN {TelegramProfile._meta.db_table} t ON t.user_id = s.user_id "
    "WHERE s.cue_habit_id = %(habit)s AND s.is_active AND u.is_active)"
)


def bound_username(*, user_id: int) -> str | None:
    """The Telegram username the user is bound to ("" when it has none), None when unbound."""
    names = TelegramProfile.objects.filter(user_id=user_id).values_list("username", flat=True)
    return next(iter(names[:1]), None)


def is_reminder(*, instance_id: int, telegram_id: int, message_id: int) -> bool:
    """Whether that chat message is a reminder (or "fix it" note) the bot sent of the instance."""
    return OutboxMessage.objects.filter(
        instance_id=instance_id, telegram_id=telegram_id, message_id=message_id,
        kind__in=REMINDER_KINDS,
    ).exists()  # fmt: skip


# The messages about one instance a reply can put a note on: its reminders and "fix it"
# notes, and their "done" or "skipped" edits (which keep the reminder's message id). Not a
# finished course's result: it hangs on an instance but speaks of the whole course.
NOTE_KINDS = (*REMINDER_KINDS, OutboxKind.DONE, OutboxKind.SKIPPED)


def instance_replied_to(*, telegram_id: int, message_id: int, user_id: int) -> int | None:
    """The id of the user's instance that chat message (sent by the bot) is about, or None
    when the bot sent no such message there, or it is about someone else's instance (a chat
    linked anew to another account)."""
    ids = OutboxMessage.objects.filter(
        telegram_id=telegram_id, message_id=message_id, kind__in=NOTE_KINDS,
        instance__user_id=user_id,
    ).values_list("instance_id", flat=True)  # fmt: skip
    return next(iter(ids[:1]), None)
