"""ASGI entry point: HTTP goes to Django's WSGI handler on a thread pool, `/ws/` to Channels.

Django's own ASGI handler runs each sync view through `sync_to_async` in a fresh thread
context: several thread hops per request, and a new thread (so a new persistent database
connection, leaked until collected) per concurrent request. Our views are all sync, so HTTP
goes straight to the WSGI handler on a fixed pool of `WEB_THREADS` threads per process (a2wsgi): one
hop, connections bounded by the pool. docs/PERFORMANCE.md has the figures.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

# Django must be set up before anything imports models (the routing below does).
get_asgi_application()

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.wsgi import application as wsgi_application  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

WEB_THREADS = int(os.environ.get("WEB_THREADS", "2"))

application = ProtocolTypeRouter(
    {
        "http": WSGIMiddleware(wsgi_application, workers=WEB_THREADS),
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
