"""Shared annotated types for request parameters."""

from typing import Annotated

from ninja import Path

# PostgreSQL's bigint: a larger id cannot exist, and passing it on would be a database error.
MAX_ID = 2**63 - 1

ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
