"""`GET /cal/{secret}.ics` (SPEC §9): the feed, for calendar apps. The secret is the only key:
no login, no cookie, nothing else read from the request."""

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from calendars.feed import feed_ical
from calendars.selectors import feed_owner, local_today, occurrences_for, window

CONTENT_TYPE = "text/calendar; charset=utf-8"
SECRET = re.compile(r"[A-Za-z0-9_-]{1,128}")


@require_safe
def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    # A secret is what `secrets.token_urlsafe` writes; anything else is no feed, unhashed.
    owner = feed_owner(secret) if SECRET.fullmatch(secret) else None
    if owner is None:
        raise Http404("No such calendar.")
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
