from telegram.models import TelegramProfile


def bound_username(*, user_id: int) -> str | None:
    """The Telegram username the user is bound to ("" when it has none), None when unbound."""
    names = TelegramProfile.objects.filter(user_id=user_id).values_list("username", flat=True)
    return next(iter(names[:1]), None)
