"""Pagination for every list: `{items, count}`, `limit` capped, `offset` bounded."""

from ninja import Field
from ninja.pagination import LimitOffsetPagination
from pydantic import BaseModel

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
# An offset past this is nonsense for a person; bounding it keeps SQL's OFFSET in range.
MAX_OFFSET = 1_000_000_000


class Pagination(LimitOffsetPagination):
    # A plain pydantic model, not Ninja's Schema: a query's two numbers need none of the
    # Schema's reading of Django objects, which was half the cost of validating them.
    class Input(BaseModel):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)
