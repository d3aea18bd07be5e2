"""Each user's `GET /api/auth/me/` cached as the very JSON the API answers.

The versioned cache `ME` (core/versioned_cache.py), declared `near`: `...:near:me:<user_id>`,
read with the token state (`me_keys` is JWTAuth's prefetch), so a cached answer costs the
request no Redis round trip from memory, one otherwise, and no query (the user row is not
loaded: the token state carries only what authentication needs).

Never stale after a commit: what `UserOut` shows (email, timezone, date joined, quiet hours)
changes only through `accounts.services.user_update` (`user.timezone_changed`, and
`user.changed` for the quiet hours) or the admin (`user.changed`), and a deactivation or a
password change records `user.tokens_ended`; the reactions (config/reactions.py) forget the
entry after each one's commit. A row changed behind their back shows within `TTL_SECONDS`.
"""

from collections.abc import Iterable

from django.http import HttpRequest

from accounts.models import User
from accounts.schemas import UserOut
from core.schemas import rendered
from core.versioned_cache import Prefetched, VersionedCache

TTL_SECONDS = 60
ME = VersionedCache("me", TTL_SECONDS, near=True)


def me_keys(user_id: int, request: HttpRequest | None = None) -> tuple[str, str]:
    """The entry and its version: JWTAuth's prefetch, read with the token state."""
    return ME.keys(user_id)


def _from_db(user_id: int) -> bytes | None:
    user = User.objects.filter(pk=user_id).first()
    return None if user is None else rendered(UserOut, user)


def me_json(user_id: int, prefetched: Prefetched | None = None) -> bytes | None:
    """The user as `UserOut` renders them: Redis (or memory) first, else the database."""
    if prefetched is False:
        return _from_db(user_id)
    found = prefetched if prefetched and ME.entry_key(user_id) in prefetched else None
    return ME.get(user_id, lambda: _from_db(user_id), bytes, bytes, found)


def me_forget(user_ids: Iterable[int]) -> None:
    ME.forget(user_ids)
