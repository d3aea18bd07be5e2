"""ASGI entry point: HTTP goes to Django's WSGI handler on a thread pool, `/ws/` to Channels.

Django's own ASGI handler runs each sync view through `sync_to_async` in a fresh thread
context: several thread hops per request, and a new thread (so a new persistent database
connection, leaked until collected) per concurrent request. Our views are all sync, so HTTP
goes straight to the WSGI handler on a fixed pool of `WEB_THREADS` threads per process
(config/http_bridge.py): one hop there and one back, connections bounded by the pool.
docs/PERFORMANCE.md has the figures.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

# Django must be set up before anything imports models (the routing below does).
get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from config.http_bridge import BufferedWSGI  # noqa: E402
from config.wsgi import application as wsgi_application  # noqa: E402
from realtime.origins import AppOriginValidator  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

WEB_THREADS = int(os.environ.get("WEB_THREADS", "2"))

application = ProtocolTypeRouter(
    {
        "http": BufferedWSGI(
            wsgi_application,
            threads=WEB_THREADS,
            max_body_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
            limits_by_path=settings.BODY_LIMITS_BY_PATH,
        ),
        "websocket": AppOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)

# A worker holds some 150,000 objects once Django, Ninja and the URLconf are loaded, and a
# full garbage collection walks them all (about 90 ms here): a stall of every request in
# that worker, and a large share of the p99. They live as long as the process, so they are
# frozen out of the collector's sight; its collections then look only at what requests make.
get_resolver().url_patterns  # noqa: B018 (imports the URLconf and every API router now)
gc.collect()
gc.freeze()
