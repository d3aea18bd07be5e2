"""Each user's `today` list cached in Redis as the very JSON the API answers.

`GET /api/instances/today/` is the busiest read there is (every client's first screen, the
dashboard on each reconnect), and building it costs far more than serving it: a join, the
ORM rows and the schema. So the answer is kept as bytes in the versioned cache `TODAY`
(core/versioned_cache.py) under `...:near:today:<user_id>`, as `<local date>|<json>`; an
entry of another date (the user's midnight passed, or their timezone moved it) is a miss.
The cache is declared `near`: each process keeps what it read in memory while Redis reports
no change of it (core/near_cache.py). Read with the token state (`today_keys` are
JWTAuth's prefetch), a cached list then costs the request no Redis round trip at all.

Never stale after a commit: whatever changes a user's instances or habits records an event
naming them (`core.events.record`), and the reactions (config/reactions.py) call
`today_forget(user_ids)` after the commit, before any frame goes out. It bumps
`...:today_version:<user_id>` and drops the entry; a miss stores what it read only if the
version is still the one it saw before reading (the helper's rule), so a read that began
before the commit can never put the old list back after it. Nothing touches Redis inside
the transaction: a completion or a sweep holds row locks there, and Redis being slow must
not hold them longer.

Bounds: a change through the services shows at once in every process (from memory, within
near_cache.LIVENESS_SECONDS when a process cannot hear Redis). A row changed behind their
back (an UPDATE in psql, a test factory), or a change whose after-commit forget met Redis
away, shows within `TTL_SECONDS` (plus, at worst, near_cache.SECONDS when Redis is late to
expire the entry). Redis away: every request reads the database, as before the cache.
"""

import json
from collections.abc import Iterable
from datetime import date

from django.http import HttpRequest
from ninja.responses import NinjaJSONEncoder

from accounts.models import User
from accounts.timezones import local_today
from core.versioned_cache import Prefetched, VersionedCache
from instances.schemas import InstanceOut
from instances.selectors import instance_list_today

TTL_SECONDS = 60
TODAY = VersionedCache("today", TTL_SECONDS, near=True)
SEPARATOR = b"|"


def today_json_from_db(user: User, today: date) -> bytes:
    """The list as the API renders `list[InstanceOut]` (same schema, same JSON encoder)."""
    items = [
        InstanceOut.from_orm(i).model_dump() for i in instance_list_today(user=user, today=today)
    ]
    return json.dumps(items, cls=NinjaJSONEncoder).encode()


def today_keys(user_id: int, request: HttpRequest | None = None) -> tuple[str, str]:
    """The entry and its version: what `today_json` reads (JWTAuth can read them for it)."""
    return TODAY.keys(user_id)


def today_json(user: User, prefetched: Prefetched | None = None) -> bytes:
    """The JSON of the user's instances on their local today: Redis first, else the database.

    `prefetched`: the values of `today_keys` read in this request (the entry alone when it
    came from memory), or False when that read found Redis away (then it is not asked
    again)."""
    today = local_today(user.timezone)
    if prefetched is False:
        return today_json_from_db(user, today)
    day = today.isoformat().encode() + SEPARATOR

    def decode(entry: bytes) -> bytes | None:  # an entry of another date is a miss
        return entry.removeprefix(day) if entry.startswith(day) else None

    found = prefetched if prefetched and TODAY.entry_key(user.pk) in prefetched else None
    return TODAY.get(user.pk, lambda: today_json_from_db(user, today), day.__add__, decode, found)


def today_forget(user_ids: Iterable[int]) -> None:
    """Drop the users' cached lists and bump their versions: the next request reads the DB."""
    TODAY.forget(user_ids)
