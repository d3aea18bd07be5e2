from telegram.models import REMINDER_KINDS, OutboxMessage, TelegramProfile


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
