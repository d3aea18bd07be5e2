from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from telegram.models import OutboxMessage, TelegramProfile
from telegram.services import telegram_unbind


class QuietHoursFilter(admin.SimpleListFilter):
    """The reminders quiet hours held back (waiting for their end) or gave up (the fix
    deadline came first): `last_error` says which, and until when."""

    title = "quiet hours"
    parameter_name = "quiet"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("waiting", "waiting for their end"), ("given_up", "given up")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        quiet = queryset.filter(last_error__startswith="quiet hours")
        if self.value() == "waiting":
            return quiet.filter(given_up_at__isnull=True, sent_at__isnull=True)
        if self.value() == "given_up":
            return quiet.filter(given_up_at__isnull=False)
        return queryset


@admin.register(TelegramProfile)
class TelegramProfileAdmin(admin.ModelAdmin):
    """Seen and unbound here, never made or edited: a binding is proven by its code in the
    chat (telegram/services/binding.py). Unbinding goes through the service, so the owner's
    sockets and webhooks hear `telegram.unbound` as from the API."""

    list_display = ("user", "telegram_id", "username", "bound_at")
    search_fields = ("user__email", "username", "telegram_id")
    raw_id_fields = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TelegramProfile) -> None:
        telegram_unbind(user=obj.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TelegramProfile]) -> None:
        for profile in queryset.select_related("user"):
            telegram_unbind(user=profile.user)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """What the bot owes and what it sent: for answering "why did I get no reminder?"."""

    list_display = ("id", "kind", "instance", "telegram_id", "next_attempt_at", "attempts",
                    "sent_at", "given_up_at", "last_error")  # fmt: skip
    list_filter = (
        "kind",
        QuietHoursFilter,
        ("sent_at", admin.EmptyFieldListFilter),
        ("given_up_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("telegram_id", "instance__habit__action")
    raw_id_fields = ("instance", "edits")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
