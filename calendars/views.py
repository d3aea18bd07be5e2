"""`GET /cal/{secret}.ics` (SPEC §9): the feed, for calendar apps. The secret is the only key:
no login, no cookie, nothing else read from the request."""

import re

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseNotFound
from django.utils import timezone

from calendars.feed import feed_ical
from calendars.selectors import feed_owner, local_today, occurrences_for, window

CONTENT_TYPE = "text/calendar; charset=utf-8"
SECRET = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _unlogged(response: HttpResponse) -> HttpResponse:
    """Django logs every 4xx answer with its path ("Not Found: /cal/<secret>.ics"), and here
    the path is the key: a POST to a live URL would write it to the log. The flag is the one
    `django.utils.log.log_response` sets itself once a response is logged."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _unlogged(HttpResponseNotAllowed(["GET", "HEAD"]))
    # A secret is what `secrets.token_urlsafe` writes; anything else is no feed, unhashed.
    owner = feed_owner(secret) if SECRET.fullmatch(secret) else None
    if owner is None:
        return _unlogged(HttpResponseNotFound("No such calendar.", content_type="text/plain"))
    now = timezone.now()
    today = local_today(owner, now)
    occurrences = occurrences_for(user=owner, today=today, now=now)
    first, last = window(today)
    body = feed_ical(occurrences=occurrences, zone=owner.timezone, first=first, last=last, now=now)
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    # The URL is the secret: no shared cache keeps the answer, no page it links to learns it.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
