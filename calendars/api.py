"""`/api/calendar/` (SPEC §9): a new secret feed URL, or none."""

from ninja import Router

router = Router(tags=["calendar"])
