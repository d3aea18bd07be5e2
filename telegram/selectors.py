from telegram.models import REMINDER_KINDS, OutboxKind, OutboxMessage, TelegramProfile


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
