from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import RefreshToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "timezone", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "timezone")
    search_fields = ("email",)
    readonly_fields = ("date_joined", "last_login", "token_version")
    fieldsets = (
        (None, {"fields": ("email", "password", "timezone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "token_version")}),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()


@admin.register(RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    list_display = ("jti", "user", "family", "created_at", "expires_at", "used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__email",)
    raw_id_fields = ("user",)
    readonly_fields = ("jti", "family", "created_at", "expires_at", "used_at")
