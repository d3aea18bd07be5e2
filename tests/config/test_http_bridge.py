"""The HTTP bridge (config/http_bridge.py) as an ASGI server drives it: the messages a client
would get back, around small WSGI apps and around the project's own Django WSGI handler."""

import asyncio
import contextvars
import json
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings

from accounts import tokens
from config.http_bridge import BufferedWSGI
from config.wsgi import application as django_application
from tests.factories import DEFAULT_PASSWORD, HabitFactory

Environ = dict[str, Any]


def http_scope(
    method: str = "GET", path: str = "/", headers: list[tuple[bytes, bytes]] | None = None
) -> dict[str, Any]:
    """The scope uvicorn builds for a plain HTTP/1.1 request to `testserver`."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 51000),
        "server": ("127.0.0.1", 8000),
    }


def body_messages(*chunks: bytes) -> list[dict[str, Any]]:
    """`http.request` messages carrying `chunks`, `more_body` on all but the last."""
    return [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]


class Client:
    """The ASGI server's side of one request: what the app may receive, and what it sent."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.pending = list(messages)
        self.received = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        assert self.pending, "the bridge read past the end of the request"
        self.received += 1
        return self.pending.pop(0)

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def response(self) -> tuple[int, dict[bytes, bytes], bytes]:
        """Status, headers and body of a complete, unstreamed answer."""
        start, body = self.sent  # exactly one start and one body
        assert start["type"] == "http.response.start"
        assert body["type"] == "http.response.body"
        assert not body.get("more_body", False)
        return start["status"], dict(start["headers"]), body["body"]


async def exchange(
    bridge: BufferedWSGI, messages: list[dict[str, Any]], scope: dict[str, Any] | None = None
) -> Client:
    client = Client(messages)
    await bridge(scope or http_scope(), client.receive, client.send)
    return client


@pytest.fixture
def bridge() -> Iterator[Callable[..., BufferedWSGI]]:
    """`bridge(app, max_body_bytes=...)`: a bridge around `app`, its threads ended after."""
    made: list[BufferedWSGI] = []

    def make(
        app: Callable[..., Any], *, max_body_bytes: int = 1024,
        limits_by_path: dict[str, int] | None = None,
    ) -> BufferedWSGI:  # fmt: skip
        made.append(
            BufferedWSGI(
                app, threads=2, max_body_bytes=max_body_bytes, limits_by_path=limits_by_path
            )
        )
        return made[-1]

    yield make
    for each in made:
        each.executor.shutdown(wait=True)


def echo(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
    """Answers with the request body it read."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [environ["wsgi.input"].read()]


class Recorder:
    """A WSGI app that notes each call (and the body it read), then answers 204."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.environ: Environ = {}

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        self.environ = environ
        self.bodies.append(environ["wsgi.input"].read())
        start_response("204 No Content", [])
        return []


# Small WSGI apps


async def test_the_answer_is_one_start_and_one_body_with_lower_cased_byte_header_names(bridge):
    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        start_response(
            "201 Created", [("Content-Type", "application/json"), ("X-Request-ID", "AbC-1")]
        )
        return [b'{"ok": true}']

    client = await exchange(bridge(app), body_messages(b""))

    assert client.sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"x-request-id", b"AbC-1")],
        },
        {"type": "http.response.body", "body": b'{"ok": true}'},
    ]


async def test_the_app_sees_the_request_as_the_scope_describes_it(bridge):
    seen: list[Environ] = []

    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(environ)
        start_response("200 OK", [])
        return []

    scope = http_scope("POST", "/api/x/", [(b"content-type", b"text/plain"), (b"x-trace", b"7")])
    scope["query_string"] = b"a=1"
    await exchange(bridge(app), body_messages(b"hi"), scope)

    (environ,) = seen
    assert (environ["REQUEST_METHOD"], environ["PATH_INFO"]) == ("POST", "/api/x/")
    assert environ["QUERY_STRING"] == "a=1"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["HTTP_X_TRACE"] == "7"
    assert environ["HTTP_HOST"] == "testserver"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"


async def test_a_body_sent_in_several_chunks_reaches_the_app_whole(bridge):
    client = await exchange(bridge(echo), body_messages(b"first,", b"", b"second,", b"third"))

    status, _, body = client.response
    assert status == 200
    assert body == b"first,second,third"
    assert client.pending == []


async def test_a_body_of_exactly_the_limit_arrives_whole_even_with_an_empty_last_chunk(bridge):
    client = await exchange(bridge(echo, max_body_bytes=10), body_messages(b"01234", b"56789", b""))

    assert client.response[2] == b"0123456789"
    assert client.pending == []


async def test_reading_stops_once_the_body_is_past_the_limit(bridge):
    chunks = [b"0123", b"4567", b"89ab", b"cdef", b"ghij"]

    client = await exchange(bridge(echo, max_body_bytes=10), body_messages(*chunks))

    # The third chunk takes the body past 10 bytes: the last two are never asked for.
    assert client.received == 3
    assert len(client.pending) == 2
    assert client.response[2].startswith(b"0123456789a")


@pytest.mark.parametrize(
    "chunks",
    [[b"x" * 100], [b"0123", b"4567", b"89ab", b"cdef"]],
    ids=["one large chunk", "a chunk crossing the limit"],
)
async def test_a_body_over_the_limit_is_cut_one_byte_past_it(bridge, chunks):
    client = await exchange(bridge(echo, max_body_bytes=10), body_messages(*chunks))

    assert len(client.response[2]) == 11


async def test_only_an_upload_path_takes_its_larger_limit_exactly(bridge):
    app = bridge(echo, max_body_bytes=10, limits_by_path={"/api/import/": 30})
    body = body_messages(b"x" * 100)

    upload = await exchange(app, list(body), http_scope("POST", "/api/import/"))
    other = await exchange(app, list(body), http_scope("POST", "/api/import/1/"))

    assert len(upload.response[2]) == 31
    assert len(other.response[2]) == 11


@pytest.mark.parametrize(
    "messages",
    [
        [{"type": "http.disconnect"}],
        [*body_messages(b"part", b"rest")[:1], {"type": "http.disconnect"}],
    ],
    ids=["before any body", "halfway through the body"],
)
async def test_a_client_gone_before_its_body_is_whole_runs_nothing_and_gets_nothing(
    bridge, messages
):
    app = Recorder()

    client = await exchange(bridge(app), messages)

    assert app.bodies == []
    assert client.sent == []
    assert client.pending == []


async def test_a_response_in_several_chunks_is_sent_as_one_body_and_then_closed(bridge):
    events: list[str] = []

    class Chunks:
        def __iter__(self) -> Iterator[bytes]:
            for chunk in (b"alpha-", b"", b"beta-", b"gamma"):
                events.append("chunk")
                yield chunk

        def close(self) -> None:
            events.append("close")

    def app(environ: Environ, start_response: Callable[..., Any]) -> Chunks:
        start_response("200 OK", [("Content-Length", "16")])
        return Chunks()

    client = await exchange(bridge(app), body_messages(b""))

    assert client.response == (200, {b"content-length": b"16"}, b"alpha-beta-gamma")
    assert events == ["chunk"] * 4 + ["close"]


async def test_an_app_failing_mid_response_is_still_closed_and_sends_nothing(bridge):
    closed: list[bool] = []

    class Broken:
        def __iter__(self) -> Iterator[bytes]:
            yield b"half"
            raise ValueError("the app broke")

        def close(self) -> None:
            closed.append(True)

    def app(environ: Environ, start_response: Callable[..., Any]) -> Broken:
        start_response("200 OK", [])
        return Broken()

    client = Client(body_messages(b""))
    with pytest.raises(ValueError, match="the app broke"):
        await bridge(app)(http_scope(), client.receive, client.send)

    assert closed == [True]
    assert client.sent == []  # the ASGI server answers 500 for us


async def test_output_of_the_write_callable_comes_before_the_returned_chunks(bridge):
    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"written,")
        return [b"returned"]

    client = await exchange(bridge(app), body_messages(b""))

    assert client.response[2] == b"written,returned"


async def test_start_response_again_with_exc_info_replaces_status_and_headers(bridge):
    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json"), ("X-Partial", "1")])
        try:
            raise RuntimeError("late failure")
        except RuntimeError:
            start_response(
                "500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info()
            )
        return [b"failed"]

    client = await exchange(bridge(app), body_messages(b""))

    assert client.response == (500, {b"content-type": b"text/plain"}, b"failed")


async def test_an_app_that_never_starts_a_response_is_an_error_and_sends_nothing(bridge):
    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        return [b"no status"]

    client = Client(body_messages(b""))
    with pytest.raises(RuntimeError, match="start_response"):
        await bridge(app)(http_scope(), client.receive, client.send)

    assert client.sent == []


async def test_the_app_runs_on_a_worker_thread_not_the_event_loops(bridge):
    threads: list[threading.Thread] = []

    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        threads.append(threading.current_thread())
        start_response("200 OK", [])
        return []

    await exchange(bridge(app), body_messages(b""))

    (worker,) = threads
    assert worker is not threading.current_thread()
    assert worker.name.startswith("http")


async def test_the_event_loop_keeps_running_while_the_app_works(bridge):
    """The app waits for the loop to release it: on the loop's own thread it never would be."""
    entered, released = threading.Event(), threading.Event()

    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        entered.set()
        start_response("200 OK" if released.wait(timeout=5) else "504 Gateway Timeout", [])
        return []

    client = Client(body_messages(b""))
    request = asyncio.create_task(bridge(app)(http_scope(), client.receive, client.send))
    while not entered.is_set():
        await asyncio.sleep(0.01)
    assert client.sent == []  # nothing is sent before the app has finished
    released.set()
    await request

    assert client.response[0] == 200


REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


async def test_the_app_sees_the_context_variables_of_the_request(bridge):
    seen: list[str] = []

    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(REQUEST_ID.get("unset"))
        start_response("200 OK", [])
        return []

    REQUEST_ID.set("req-42")
    await exchange(bridge(app), body_messages(b""))

    assert seen == ["req-42"]


# The project's Django WSGI handler, as production serves it (config/asgi.py)


@pytest.fixture
def django_bridge(bridge) -> BufferedWSGI:
    return bridge(django_application, max_body_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def json_post(path: str, length: int) -> dict[str, Any]:
    return http_scope(
        "POST",
        path,
        [(b"content-type", b"application/json"), (b"content-length", str(length).encode())],
    )


async def test_healthz_through_django_answers_json_with_the_security_headers(django_bridge):
    client = await exchange(django_bridge, body_messages(b""), http_scope("GET", "/healthz"))

    status, headers, body = client.response
    assert status == 200
    assert json.loads(body) == {"status": "ok"}
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"x-frame-options"] == b"DENY"
    assert all(name == name.lower() for name in headers)


@pytest.fixture
def public_and_private_habit(transactional_db: None) -> tuple[Any, Any]:
    """Committed, so the bridge's worker threads (their own connections) can see them."""
    return HabitFactory(is_public=True, action="read"), HabitFactory(is_public=False)


async def test_public_habits_through_django_list_only_the_public_one(
    django_bridge, public_and_private_habit
):
    public, _ = public_and_private_habit

    client = await exchange(
        django_bridge, body_messages(b""), http_scope("GET", "/api/habits/public/")
    )

    status, headers, body = client.response
    assert status == 200
    assert headers[b"content-type"].startswith(b"application/json")
    page = json.loads(body)
    assert page["count"] == 1
    assert [(h["id"], h["action"]) for h in page["items"]] == [(public.pk, "read")]


@pytest.fixture
def committed_user(transactional_db: None) -> Any:
    return HabitFactory().user


async def test_a_login_sent_in_chunks_reaches_django_whole_and_signs_in(
    django_bridge, committed_user
):
    body = json.dumps({"email": committed_user.email, "password": DEFAULT_PASSWORD}).encode()
    chunks = [body[:7], body[7:20], body[20:]]

    client = await exchange(
        django_bridge, body_messages(*chunks), json_post("/api/auth/login/", len(body))
    )

    status, _, answer = client.response
    assert status == 200, answer
    access = json.loads(answer)["access"]
    assert tokens.decode(access, expected="access").user_id == committed_user.pk


async def test_a_login_over_the_body_limit_is_a_413_in_json_and_is_not_read_to_the_end(
    django_bridge,
):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = b'{"email": "a@example.com", "password": "' + b"x" * (limit + 200_000) + b'"}'
    chunks = [body[i : i + 65_536] for i in range(0, len(body), 65_536)]

    client = await exchange(
        django_bridge, body_messages(*chunks), json_post("/api/auth/login/", len(body))
    )

    status, headers, answer = client.response
    assert status == 413
    assert headers[b"content-type"] == b"application/json"
    assert json.loads(answer) == {"detail": f"Request body is larger than {limit} bytes."}
    assert client.pending  # the rest of the upload was never read into this process


async def test_an_import_over_its_own_limit_is_a_413_before_it_is_read(bridge):
    app = bridge(
        django_application, max_body_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        limits_by_path=settings.BODY_LIMITS_BY_PATH,
    )  # fmt: skip
    limit = settings.BODY_LIMITS_BY_PATH["/api/import/"]
    chunks = [b"x" * 1_048_576] * 22
    scope = http_scope(
        "POST", "/api/import/",
        [(b"content-type", b"multipart/form-data; boundary=b"),
         (b"content-length", str(22 * 1_048_576).encode())],
    )  # fmt: skip

    client = await exchange(app, body_messages(*chunks), scope)

    status, _, answer = client.response
    assert status == 413
    assert json.loads(answer) == {"detail": f"Request body is larger than {limit} bytes."}
    assert client.pending  # not read to its end


async def test_a_chunked_login_without_content_length_reaches_django_whole(
    django_bridge, committed_user
):
    body = json.dumps({"email": committed_user.email, "password": DEFAULT_PASSWORD}).encode()
    scope = http_scope(
        "POST",
        "/api/auth/login/",
        [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
    )

    client = await exchange(django_bridge, body_messages(body[:9], body[9:]), scope)

    status, _, answer = client.response
    assert status == 200, answer
    assert (
        tokens.decode(json.loads(answer)["access"], expected="access").user_id == committed_user.pk
    )


async def test_a_header_spelled_with_underscores_never_reaches_the_app(bridge):
    app = Recorder()
    scope = http_scope(
        headers=[(b"x-forwarded-for", b"203.0.113.7"), (b"x_forwarded_for", b"10.0.0.1")]
    )

    await exchange(bridge(app), body_messages(b""), scope)

    assert app.environ["HTTP_X_FORWARDED_FOR"] == "203.0.113.7"
