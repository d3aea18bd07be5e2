from django.contrib import admin

from telegram.models import OutboxMessage, TelegramProfile


@admin.register(TelegramProfile)
class TelegramProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "telegram_id", "username", "bound_at")
    search_fields = ("user__email", "username", "telegram_id")
    raw_id_fields = ("user",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """What the bot owes and what it sent: for answering "why did I get no reminder?"."""

    list_display = ("id", "kind", "instance", "telegram_id", "next_attempt_at", "attempts",
                    "sent_at", "given_up_at", "last_error")  # fmt: skip
    list_filter = (
        "kind",
        ("sent_at", admin.EmptyFieldListFilter),
        ("given_up_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("telegram_id", "instance__habit__action")
    raw_id_fields = ("instance", "edits")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
