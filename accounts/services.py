"""Everything that changes a user or their tokens goes through here."""

import uuid
from dataclasses import dataclass
from datetime import time, timedelta
from types import EllipsisType

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts import personal_tokens, throttle, tokens
from accounts.events import (
    PERSONAL_TOKEN_REVOKED,
    USER_CHANGED,
    USER_TIMEZONE_CHANGED,
    USER_TOKENS_ENDED,
)
from accounts.models import PersonalToken, RefreshToken, User, normalize_email
from accounts.personal_tokens import Scope
from accounts.timezones import is_known_timezone
from core.errors import FieldProblem, InvalidInput, NotFound, Unauthorized
from core.events import record

INVALID_LOGIN = "Invalid email or password."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int
    token_type: str = "Bearer"


def _password_problems(
    password: str, *, field: str, user: User | None = None
) -> list[FieldProblem]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return [FieldProblem(field, msg) for msg in exc.messages]
    return []


def _timezone_problems(name: str) -> list[FieldProblem]:
    if is_known_timezone(name):
        return []
    return [FieldProblem("timezone", f"{name!r} is not a known IANA time zone.")]


def user_register(*, email: str, password: str, ip: str, timezone_name: str = "UTC") -> User:
    throttle.register_attempt(ip=ip)
    email = normalize_email(email)
    candidate = User(email=email, timezone=timezone_name)
    problems = _timezone_problems(timezone_name) + _password_problems(
        password, field="password", user=candidate
    )
    if User.objects.filter(email=email).exists():
        if not problems:
            # A new address would be hashed now: hash this one too, so the answer's timing
            # does not tell which addresses are registered.
            make_password(password)
        problems.insert(0, FieldProblem("email", "A user with this email already exists."))
    if problems:
        raise InvalidInput(problems)
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, timezone=timezone_name)
    except IntegrityError as exc:  # a concurrent registration of the same address won
        raise InvalidInput.field("email", "A user with this email already exists.") from exc


def token_pair_issue(*, user: User, family: uuid.UUID | None = None) -> TokenPair:
    """A fresh access token and a refresh token recorded in `family` (a new one if None)."""
    now = timezone.now()
    family = family or uuid.uuid4()
    refresh_row = RefreshToken(user=user, family=family, created_at=now)
    refresh, refresh_expires = tokens.encode(
        user_id=user.pk,
        type="refresh",
        version=user.token_version,
        jti=refresh_row.jti,
        family=family,
        now=now,
        ttl=timedelta(seconds=settings.JWT_REFRESH_TTL_SECONDS),
    )
    refresh_row.expires_at = refresh_expires
    refresh_row.save(force_insert=True)
    access_ttl = settings.JWT_ACCESS_TTL_SECONDS
    access, _ = tokens.encode(
        user_id=user.pk,
        type="access",
        version=user.token_version,
        jti=uuid.uuid4(),
        now=now,
        ttl=timedelta(seconds=access_ttl),
    )
    return TokenPair(access=access, refresh=refresh, expires_in=access_ttl)


def user_login(*, request: HttpRequest, email: str, password: str, ip: str) -> TokenPair:
    """Tokens for the right password; one message for a missing user and a wrong password."""
    email = normalize_email(email)
    throttle.login_attempt_begin(email=email, ip=ip)
    # authenticate() hashes even for an unknown e-mail, so timing does not tell them apart.
    user = authenticate(request, username=email, password=password)
    if user is None:
        raise Unauthorized(INVALID_LOGIN)
    throttle.login_attempt_succeeded(email=email, ip=ip)
    with transaction.atomic():
        return token_pair_issue(user=user)


def _active_user_with_version(claims: tokens.Claims) -> User:
    user = User.objects.filter(pk=claims.user_id, is_active=True).first()
    if user is None or user.token_version != claims.version:
        raise Unauthorized("Token is no longer valid.")
    return user


def _revoke_family(family: uuid.UUID | None) -> None:
    if family is not None:
        RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )


def token_refresh(*, refresh: str) -> TokenPair:
    """Rotate: the presented token is spent and a new pair issued in the same family.

    Presenting a spent or revoked token is treated as theft: the whole family is revoked,
    so the thief's and the owner's newer tokens both stop working. Two refreshes racing with
    one token are ordered by the row lock: one wins, the other sees a spent token.
    """
    claims = tokens.decode(refresh, expected="refresh")
    now = timezone.now()
    with transaction.atomic():
        spent = RefreshToken.objects.filter(
            jti=claims.jti,
            user_id=claims.user_id,
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).update(used_at=now)
        if spent:
            user = _active_user_with_version(claims)
            return token_pair_issue(user=user, family=claims.family)
    _revoke_family(claims.family)
    raise Unauthorized("Refresh token is no longer valid.")


def token_logout(*, refresh: str) -> None:
    """End one login: its refresh token family stops working."""
    claims = tokens.decode(refresh, expected="refresh")
    if not RefreshToken.objects.filter(jti=claims.jti, user_id=claims.user_id).exists():
        raise Unauthorized("Refresh token is no longer valid.")
    _revoke_family(claims.family)


def user_tokens_end_all(*, user: User) -> None:
    """Every earlier token of the user fails from now on, and their sockets close 4401 after
    the commit. Called by `User.save` whenever a password or `is_active` changes (every door:
    API, admin, management commands, scripts), and by logout-all."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    RefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    # Their version check already fails them (accounts/auth.py); marked revoked too, so the
    # owner's list shows what is left.
    PersonalToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    user.refresh_from_db(fields=["token_version"])
    record(USER_TOKENS_ENDED, user_id=user.pk, version=user.token_version)


@transaction.atomic
def user_logout_all(*, user: User) -> None:
    user_tokens_end_all(user=user)


@transaction.atomic
def user_password_change(*, user: User, old_password: str, new_password: str) -> None:
    throttle.password_check_begin(user_id=user.pk)
    if not user.check_password(old_password):
        raise InvalidInput.field("old_password", "The current password is not correct.")
    throttle.password_check_succeeded(user_id=user.pk)
    problems = _password_problems(new_password, field="new_password", user=user)
    if problems:
        raise InvalidInput(problems)
    user.set_password(new_password)
    user.save(update_fields=["password"])  # User.save ends every earlier token


@transaction.atomic
def user_deactivate(*, user: User) -> None:
    """The user may no longer log in; User.save ends every earlier token if they could."""
    user.is_active = False
    user.save(update_fields=["is_active"])


@transaction.atomic
def user_update(
    *,
    user: User,
    timezone_name: str | None = None,
    quiet_hours: tuple[time, time] | EllipsisType | None = ...,
) -> User:
    """Change what is given (`quiet_hours`: `...` keeps them, None clears them); every field
    is checked before anything is written."""
    problems = [] if timezone_name is None else _timezone_problems(timezone_name)
    if quiet_hours is not ... and quiet_hours is not None and quiet_hours[0] == quiet_hours[1]:
        problems.append(FieldProblem("quiet_hours", "start and end must differ"))
    if problems:
        raise InvalidInput(problems)
    if quiet_hours is not ... and quiet_hours != user.quiet_hours:
        # Read when the outbox is claimed (telegram/services/outbox.py): nothing to tell.
        user.quiet_start, user.quiet_end = quiet_hours or (None, None)
        user.save(update_fields=["quiet_start", "quiet_end"])
        record(USER_CHANGED, user_id=user.pk)  # what `me` answers (accounts/me_cache.py)
    if timezone_name is not None and timezone_name != user.timezone:
        user.timezone = timezone_name
        user.save(update_fields=["timezone"])
        # Its instances are re-planned in this transaction by the reaction to the event.
        record(USER_TIMEZONE_CHANGED, user_id=user.pk)
    return user


# --- personal access tokens (SPEC §10) ------------------------------------------------------

MAX_TOKEN_DAYS = 3650


@dataclass(frozen=True)
class IssuedPersonalToken:
    row: PersonalToken
    secret: str  # shown once, kept nowhere


def _personal_token_problems(
    name: str, scopes: list[str], expires_in_days: int | None
) -> list[FieldProblem]:
    problems = []
    if not name.strip():
        problems.append(FieldProblem("name", "A name is required."))
    if len(name) > 100:
        problems.append(FieldProblem("name", "At most 100 characters."))
    unknown = sorted(set(scopes) - personal_tokens.KNOWN)
    if unknown:
        known = ", ".join(Scope)
        problems.append(FieldProblem("scopes", f"Unknown scope(s) {unknown}; known: {known}."))
    if not scopes:
        problems.append(FieldProblem("scopes", "At least one scope is required."))
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        problems.append(
            FieldProblem("expires_in_days", f"Between 1 and {MAX_TOKEN_DAYS} days, or none.")
        )
    return problems


@transaction.atomic
def personal_token_create(
    *, user: User, name: str, scopes: list[str], expires_in_days: int | None = None
) -> IssuedPersonalToken:
    """A new token; its secret is returned here and never again (only its hash is kept)."""
    problems = _personal_token_problems(name, scopes, expires_in_days)
    if problems:
        raise InvalidInput(problems)
    # The user's row locked: two creations at once cannot both pass the cap, and a
    # logout-all cannot slip between reading the version and writing the token.
    version = (
        User.objects.select_for_update().filter(pk=user.pk).values_list("token_version", flat=True)
    ).get()
    live = PersonalToken.objects.filter(user=user, revoked_at__isnull=True).count()
    if live >= personal_tokens.MAX_PER_USER:
        raise InvalidInput.field(
            "name", f"At most {personal_tokens.MAX_PER_USER} tokens: revoke one first."
        )
    now = timezone.now()
    secret = personal_tokens.new_secret()
    row = PersonalToken.objects.create(
        user=user,
        name=name,
        scopes=sorted(set(scopes)),
        token_hash=personal_tokens.hash_secret(secret),
        prefix=secret[: len(personal_tokens.PREFIX) + personal_tokens.DISPLAY_CHARS],
        token_version=version,
        created_at=now,
        expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
    )
    return IssuedPersonalToken(row=row, secret=secret)


@transaction.atomic
def personal_token_revoke(*, user: User, token_id: int) -> None:
    """The token fails from the commit on, in every process. Revoking it again: nothing."""
    row = PersonalToken.objects.filter(pk=token_id, user=user).first()
    if row is None:
        raise NotFound()
    revoked = PersonalToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        record(PERSONAL_TOKEN_REVOKED, user_id=user.pk, token_id=row.pk, token_hash=row.token_hash)
