from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.events import USER_CHANGED, USER_TIMEZONE_CHANGED
from accounts.models import PersonalToken, RefreshToken, User
from accounts.services import personal_token_revoke, user_deactivate, user_tokens_end_all
from core.events import record


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "timezone", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "timezone")
    search_fields = ("email",)
    readonly_fields = ("date_joined", "last_login", "token_version")
    fieldsets = (
        (None, {"fields": ("email", "password", "timezone")}),
        (
            "Quiet hours (local time; the end may be past midnight)",
            {"fields": ("quiet_start", "quiet_end")},
        ),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "token_version")}),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
    actions = ("deactivate_users",)

    # Unticking "active" (or a password set by the password form) ends every earlier token
    # and closes the sockets in User.save, the one place every door goes through.
    # Re-timezoning or deleting a user here holds for their tokens at once too, not after the
    # token-state cache expires; a new timezone re-plans their instances as the API's does.
    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        stored = User.objects.filter(pk=obj.pk).values_list("timezone", flat=True).first()
        super().save_model(request, obj, form, change)
        if change:
            record(USER_CHANGED, user_id=obj.pk)
        if change and stored is not None and stored != obj.timezone:
            record(USER_TIMEZONE_CHANGED, user_id=obj.pk)

    @admin.action(description="Deactivate selected users (ends their sessions)")
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # One user at a time through the service: a queryset.update() would skip User.save.
        users = list(queryset.filter(is_active=True))
        for user in users:
            user_deactivate(user=user)
        self.message_user(request, f"Deactivated {len(users)} user(s).", messages.SUCCESS)

    # Their tokens end first: the sockets they opened close 4401 after the commit, as a
    # deactivation's do (a deleted user's row is not there to fail a socket's next check).
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        user_id = obj.pk
        user_tokens_end_all(user=obj)
        super().delete_model(request, obj)
        record(USER_CHANGED, user_id=user_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset)
        for user in users:
            user_tokens_end_all(user=user)
        super().delete_queryset(request, queryset)
        for user in users:
            record(USER_CHANGED, user_id=user.pk)


@admin.register(RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    """Seen and deleted here, never made or edited: a row is one login's rotation, and a
    cleared `revoked_at` would bring a logged-out session back. To end a user's sessions,
    deactivate them or set a password (every token ends)."""

    list_display = ("jti", "user", "family", "created_at", "expires_at", "used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__email",)
    raw_id_fields = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    """Seen and revoked here, never made or edited: a secret is shown to its owner only."""

    list_display = ("name", "user", "prefix", "scopes", "created_at", "last_used_at", "expires_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__email", "name", "prefix")
    raw_id_fields = ("user",)
    readonly_fields = (
        "user", "name", "scopes", "prefix", "token_hash", "token_version", "created_at",
        "expires_at", "last_used_at", "revoked_at",
    )  # fmt: skip
    actions = ("revoke_tokens",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Revoked through the service first (it tells every process), then gone; a user's
    # deletion takes their tokens with it the same way (UserAdmin ends them all first).
    def delete_model(self, request: HttpRequest, obj: PersonalToken) -> None:
        if obj.revoked_at is None:
            personal_token_revoke(user=obj.user, token_id=obj.pk)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PersonalToken]) -> None:
        for row in queryset.filter(revoked_at__isnull=True).select_related("user"):
            personal_token_revoke(user=row.user, token_id=row.pk)
        super().delete_queryset(request, queryset)

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[PersonalToken]) -> None:
        rows = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        for row in rows:
            personal_token_revoke(user=row.user, token_id=row.pk)
        self.message_user(request, f"Revoked {len(rows)} token(s).", messages.SUCCESS)
