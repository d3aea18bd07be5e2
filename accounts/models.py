import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, time
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, router, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils.timezone import now

from accounts.timezones import validate_timezone

# "Since ever": the database's default of a moment written by hand without it.
SINCE_EVER = datetime(1970, 1, 1, tzinfo=UTC)


def normalize_email(email: str) -> str:
    """Emails are matched case-insensitively, so they are stored in one case."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person, known by e-mail; every local date of theirs is read in `timezone`."""

    email = models.EmailField(max_length=254, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # When that timezone took effect (a move): no occurrence already over then is generated
    # for any habit of theirs (instances/generation.py, with each habit's `planned_from`).
    # Kept here, on the row the move locks anyway, rather than on every habit.
    timezone_since = models.DateTimeField(default=SINCE_EVER, db_default=SINCE_EVER, editable=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=now)
    # Carried in every token; bumping it ends every token issued before (logout-all,
    # password change, deactivation).
    token_version = models.PositiveIntegerField(default=0)
    # Quiet hours (SPEC §8), local wall-clock times in `timezone`; both or neither. Reminders
    # due from `quiet_start` until `quiet_end` (which may be past midnight) wait for the end.
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | (
                    Q(quiet_start__isnull=False, quiet_end__isnull=False)
                    & ~Q(quiet_start=models.F("quiet_end"))
                ),
                name="user_quiet_hours_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def quiet_hours(self) -> tuple[time, time] | None:
        """(start, end) of the quiet hours, local wall-clock times; None: none set."""
        if self.quiet_start is None or self.quiet_end is None:
            return None
        return self.quiet_start, self.quiet_end

    # --- who may log in: the one place every door goes through -----------------------------
    # A password set by any door (the API, the admin's password form, `manage.py
    # changepassword`, a script) or a change of `is_active` ends every earlier token when the
    # row is saved, in the save's transaction (docs/DECISIONS.md, "Accounts and tokens").

    _password_disabled = False

    def set_unusable_password(self) -> None:
        # Django marks set_password() in `_password`, but not this: mark it ourselves.
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, **kwargs: Any) -> None:
        if kwargs.get("update_fields") is not None:  # read more than once below
            kwargs["update_fields"] = frozenset(kwargs["update_fields"])
        update_fields = kwargs.get("update_fields")
        watched = ("password", "is_active", "token_version")
        if self.pk is None or not any(self._writes(f, update_fields) for f in watched):
            super().save(**kwargs)
            return
        using = kwargs.get("using") or router.db_for_write(User, instance=self)
        with transaction.atomic(using=using):
            ends_tokens = self._access_changes(using, update_fields)
            super().save(**kwargs)  # clears Django's `_password` mark: it was read before
            self._password_disabled = False
            if ends_tokens:
                # Imported here: the services build on this model.
                from accounts.services import user_tokens_end_all

                user_tokens_end_all(user=self)

    def _writes(self, field: str, update_fields: Iterable[str] | None) -> bool:
        """Whether this save writes `field` (saving a partly loaded row writes the loaded)."""
        if update_fields is not None:
            return field in update_fields
        return field not in self.get_deferred_fields()

    def _access_changes(self, using: str, update_fields: Iterable[str] | None) -> bool:
        """Whether the save about to run changes who may log in. Locks the stored row, and
        never lets a stale copy of this user write an older token version back."""
        stored = (
            User._default_manager.db_manager(using)
            .select_for_update()
            .filter(pk=self.pk)
            .values_list("is_active", "token_version")
            .first()
        )
        if stored is None:  # a row deleted meanwhile, or a pk set by hand: nothing to end
            return False
        was_active, version = stored
        if self._writes("token_version", update_fields):
            self.token_version = max(self.token_version, version)
        # `_password` is Django's own mark of set_password(); its hash upgrade on login unsets
        # it again, so a rehash is not a change of password and logs no one out.
        password_set = self._password is not None or self._password_disabled
        if password_set and self._writes("password", update_fields):
            return True
        # Both ways: re-activation ends tokens too, so none from before a deactivation made
        # behind the model's back (an UPDATE) can come back with it.
        return self._writes("is_active", update_fields) and was_active != self.is_active

    def clean(self) -> None:
        # Every way in (API, admin, shell with full_clean) stores the one matchable form.
        super().clean()
        self.email = normalize_email(self.email)

    def refresh_from_db(
        self,
        using: str | None = None,
        fields: Iterable[str] | None = None,
        from_queryset: QuerySet["User"] | None = None,
    ) -> None:
        # A request's user comes from the token-state cache with a few fields loaded; reading
        # another (the profile's email and date joined) loads all the rest in one query, not
        # one query per field.
        deferred = self.get_deferred_fields()
        if fields is not None and deferred and set(fields) <= deferred:
            fields = deferred
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)


class RefreshToken(models.Model):
    """One issued refresh token. Rotation marks it used; a family is one login's chain."""

    jti = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    family = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"refresh {self.jti} of user {self.user_id}"


class PersonalToken(models.Model):
    """A named, scoped, long-lived API token (SPEC §10). Only the SHA-256 of its secret is
    kept (accounts/personal_tokens.py): a copy of this table lets no one in."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="personal_tokens")
    name = models.CharField(max_length=100)
    # A subset of read/complete/write (each admits the ones before it).
    scopes = models.JSONField(default=list)
    token_hash = models.CharField(max_length=64, unique=True)
    # The secret's first characters, for the owner to tell their tokens apart.
    prefix = models.CharField(max_length=16)
    # The owner's token version at creation: logout-all, a password change or deactivation
    # bump the user's, which ends this token by the same check as a login token's `ver`.
    token_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)  # to the minute
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"personal token {self.prefix}… of user {self.user_id}"
