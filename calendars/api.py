"""`/api/calendar/` (SPEC §9): a new secret feed URL, or none."""

from django.urls import reverse
from ninja import Router, Status

from accounts.auth import AuthedRequest, JWTAuth
from calendars import services
from calendars.schemas import FeedOut
from core.schemas import Message

router = Router(tags=["calendar"], auth=JWTAuth())


@router.post("/", response={201: FeedOut, 401: Message})
def calendar_subscribe(request: AuthedRequest) -> Status:
    """A new secret URL of your calendar feed; the one before stops at once. Keep it: it is
    shown only now."""
    secret = services.feed_renew(user=request.auth)
    url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"secret": secret}))
    return Status(201, {"url": url})


@router.delete("/", response={204: None, 401: Message})
def calendar_revoke(request: AuthedRequest) -> Status:
    """Your calendar feed stops: its URL answers 404 from now on."""
    services.feed_revoke(user=request.auth)
    return Status(204, None)
