"""Which web pages may open the socket: the app's own origins, by scheme, host and port.

A browser lets any page open a WebSocket to any host and sends the page's origin with it;
the token rides in the subprotocol, so a page that got hold of one (or a user's browser on a
hostile page with a token it was handed) must also be on an origin of ours. The rule: the
origin must equal one of CSRF_TRUSTED_ORIGINS (the app's own addresses: the dashboard is
served by the app) or CORS_ALLOWED_ORIGINS (pages allowed to call the API), scheme, host and
port alike (a default port may be left out). A `*.` host in CSRF_TRUSTED_ORIGINS stands for
its subdomains, as it does for Django's CSRF check. No Origin header: refused.
"""

from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings


def allowed_origins() -> list[str]:
    """The origins a page may open the socket from, in Channels' pattern syntax."""
    origins = [*settings.CSRF_TRUSTED_ORIGINS, *settings.CORS_ALLOWED_ORIGINS]
    # Without a scheme Channels would match the host alone, on any scheme and port.
    return [origin.replace("://*.", "://.", 1) for origin in origins if "://" in origin]


class AppOriginValidator(OriginValidator):
    """Channels' validator (it compares scheme, host and port when the pattern has a
    scheme) over `allowed_origins`, read on each handshake so a settings change holds."""

    def __init__(self, application: Any) -> None:
        self.application = application

    @property
    def allowed_origins(self) -> list[str]:
        return allowed_origins()
