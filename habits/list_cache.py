"""The habit lists cached as the very JSON the API answers: each user's pages of
`GET /api/habits/` and the public feed's pages (`GET /api/habits/public/`), shared by all.

Both are `PagedCache`s (core/versioned_cache.py): one entry a set of query parameters (a
page), all of an id under one version, held in each process's memory while Redis reports no
change (core/near_cache.py). A user's pages are read with their token state (`habit_list_keys`
is JWTAuth's prefetch): a cached page costs no Redis round trip from memory, one otherwise.
The feed has no token state to ride on (no auth): its page and version are read together,
from memory or in one MGET.

Never stale after a commit: the reactions (config/reactions.py) bump the version after the
commit of every event that changes what a page shows, before any frame goes out:
- a user's pages (`HabitOut`: the habit's fields and its program, counted from its
  instances): habit created, updated or deleted, every instance event, `program.finished`,
  a timezone change (it re-plans instances), an import;
- the feed (`PublicHabitOut`, of public habits of active users): a habit created, updated
  or deleted that is or was public (the event's `public` fact), a user's tokens ended (a
  deactivation or a re-activation takes their habits out of the feed or back) and a user
  edited or deleted in the admin (their habits go with them).
A row changed behind the services' back shows within `TTL_SECONDS`.
"""

from collections.abc import Sequence

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja import Schema

from accounts.models import User
from core.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from core.schemas import rendered
from core.versioned_cache import PagedCache, Prefetched
from habits.programs import with_programs
from habits.schemas import HabitOut, PublicHabitOut
from habits.selectors import habit_list_for, habit_list_public

TTL_SECONDS = 60
HABIT_PAGES = PagedCache("habits", TTL_SECONDS)
PUBLIC_PAGES = PagedCache("public", TTL_SECONDS)
FEED = 0  # the feed's one id: its pages share one version
# Query values a page's name takes as they are (anything else: the handler reads its page).
BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


class PagedHabitOut(Schema):
    """What `@paginate` answered before these lists were cached (the same name and shape)."""

    items: list[HabitOut]
    count: int


class PagedPublicHabitOut(Schema):
    items: list[PublicHabitOut]
    count: int


def page_name(
    limit: int, offset: int, is_active: bool | None = None, is_pleasant: bool | None = None
) -> str:
    flags = "".join("-" if v is None else str(int(v)) for v in (is_active, is_pleasant))
    return f"{limit}.{offset}.{flags}"


def _page_of_query(query: MultiValueDict) -> str | None:
    """The page a query string asks for, if plainly valid (else the handler, after Ninja's
    validation, reads the page itself)."""
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
        offset = int(query.get("offset", 0))
        flags = [None if (v := query.get(f)) is None else BOOLEANS[v] for f in FLAGS]
    except (ValueError, KeyError):
        return None
    if not (1 <= limit <= MAX_LIMIT and 0 <= offset <= MAX_OFFSET):
        return None
    return page_name(limit, offset, *flags)


FLAGS = ("is_active", "is_pleasant")


def habit_list_keys(user_id: int, request: HttpRequest) -> Sequence[str]:
    """JWTAuth's prefetch: the asked page and its version, read with the token state."""
    page = _page_of_query(request.GET)
    return () if page is None else HABIT_PAGES.page_keys(user_id, page)


def habit_page_json(
    user: User,
    limit: int,
    offset: int,
    is_active: bool | None,
    is_pleasant: bool | None,
    prefetched: Prefetched | None = None,
) -> bytes:
    """The page as the API renders it: cached, else read (count, page, programs)."""

    def load() -> bytes:
        habits = habit_list_for(user=user, is_active=is_active, is_pleasant=is_pleasant)
        items = with_programs(habits[offset : offset + limit])
        return rendered(PagedHabitOut, {"items": items, "count": habits.count()})

    page = page_name(limit, offset, is_active, is_pleasant)
    return HABIT_PAGES.get_page(user.pk, page, load, prefetched)


def public_page_json(limit: int, offset: int) -> bytes:
    """A page of the feed, the same for everyone: cached, else read (count, page)."""

    def load() -> bytes:
        habits = habit_list_public()
        items = list(habits[offset : offset + limit])
        return rendered(PagedPublicHabitOut, {"items": items, "count": habits.count()})

    return PUBLIC_PAGES.get_page(FEED, page_name(limit, offset), load)


def habit_lists_forget(user_ids: Sequence[int]) -> None:
    """Every cached page of these users' habit lists is old from now on."""
    if user_ids:
        HABIT_PAGES.forget(user_ids)


def public_feed_forget() -> None:
    """Every cached page of the public feed is old from now on."""
    PUBLIC_PAGES.forget([FEED])
