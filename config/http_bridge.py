"""HTTP from the ASGI server to Django's WSGI handler: one thread hop there and one back.

a2wsgi's `WSGIMiddleware` hands every piece of a response (its start, each body chunk, its
end) from the worker thread to the event loop and waits for the loop to take it: three
blocking round trips per request, each waiting for the GIL while the other threads run
Python. Under load that wait, not Django, was most of a request's time (docs/PERFORMANCE.md,
the serving layout). Here the loop reads the request body, a thread runs the whole request
and returns the whole response, and the loop sends it: the thread never waits for the loop.

Responses are therefore buffered; the app has no streaming ones (its largest answer is a
static file of a few hundred kB). Request bodies are read until one byte past Django's
`DATA_UPLOAD_MAX_MEMORY_SIZE` and cut there, enough for Django to refuse an oversized one
(413) without the app ever seeing more; a chunked upload gets the CONTENT_LENGTH Django
needs to read it. The API takes JSON only, but for the import's upload: its exact path has a
limit of its own (`limits_by_path`, settings.BODY_LIMITS_BY_PATH), and a body past it arrives
cut with its CONTENT_LENGTH, which config/middleware.py refuses (413).
Header names with an underscore are dropped, as gunicorn does: WSGI spells
`X-Forwarded-For` and `X_Forwarded_For` alike, so one could append to the other. The WSGI
environ is a2wsgi's.
"""

import asyncio
import contextvars
import io
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import build_environ

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]


class BufferedWSGI:
    def __init__(
        self, app: WSGIApp, *, threads: int, max_body_bytes: int,
        limits_by_path: Mapping[str, int] | None = None,
    ) -> None:  # fmt: skip
        if not isinstance(max_body_bytes, int):
            raise TypeError("max_body_bytes must be a number of bytes")
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Exact paths that take a larger body (an upload): settings.BODY_LIMITS_BY_PATH.
        self.limits_by_path = dict(limits_by_path or {})
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits_by_path.get(scope.get("path", ""), self.max_body_bytes)
        body = await self._read_body(receive, limit)
        if body is None:
            return  # the client went away before its request was whole: nobody to answer
        headers = [(name, value) for name, value in scope["headers"] if b"_" not in name]
        environ = build_environ({**scope, "headers": headers}, io.BytesIO(body))
        if body and "CONTENT_LENGTH" not in environ:
            # A chunked upload: Django reads CONTENT_LENGTH bytes, and the body is all here.
            environ["CONTENT_LENGTH"] = str(len(body))
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(
            self.executor, context.run, self._respond, environ
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _read_body(self, receive: Receive, limit: int) -> bytes | None:
        """The request body, cut one byte past the limit; None if the client disconnected."""
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if not message.get("more_body", False):
                break
        return b"".join(chunks)[: limit + 1]

    def _respond(self, environ: dict[str, Any]) -> Response:
        """Run the request in this worker thread; the whole response, headers and body."""
        started: list[tuple[int, list[tuple[bytes, bytes]]]] = []
        chunks: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            # Nothing is sent before the app returns, so a later call (with exc_info) may
            # always replace the status and headers, as PEP 3333 allows.
            started[:] = [(int(status.split(" ", 1)[0]), [_header(n, v) for n, v in headers])]
            return chunks.append

        iterable = self.app(environ, start_response)
        try:
            chunks.extend(iterable)
        finally:
            getattr(iterable, "close", lambda: None)()
        if not started:
            raise RuntimeError("the WSGI application returned without calling start_response")
        status, headers = started[0]
        return status, headers, b"".join(chunks)


def _header(name: str, value: str) -> tuple[bytes, bytes]:
    return name.strip().lower().encode("latin1"), value.strip().encode("latin1")
