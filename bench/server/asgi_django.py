"""A serving candidate: HTTP through Django's own ASGI handler (the layout before issue 8).

Each request runs in a fresh thread context, so it is measured with DB_CONN_MAX_AGE=0: a
persistent connection per thread would leak until PostgreSQL refuses more clients.
"""

from django.core.asgi import get_asgi_application

django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_http,
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
