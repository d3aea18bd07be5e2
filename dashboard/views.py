"""The dashboard: one HTML page; everything else is static files talking to the API."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.generic import TemplateView

# The page loads only its own scripts and styles and talks only to its own origin (REST and
# the socket), so a strict policy costs nothing and blunts any injected markup.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class DashboardView(TemplateView):
    """Serves the single page at `/`; routing between screens happens in the browser."""

    template_name = "dashboard/index.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response["Referrer-Policy"] = "same-origin"
        # The page is a shell; a stale copy could point at scripts that no longer exist.
        response["Cache-Control"] = "no-cache"
        return response
