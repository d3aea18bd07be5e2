"""Reads of accounts' rows, scoped to their user."""

from django.db.models import QuerySet

from accounts.models import PersonalToken, User


def personal_tokens_live(*, user: User) -> QuerySet[PersonalToken]:
    """The user's tokens not revoked, newest first."""
    return PersonalToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-pk")
