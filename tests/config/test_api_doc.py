"""docs/API.md against the running app.

Guards the user-facing API reference from drifting away from the code: every operation of
the OpenAPI schema has a row in the doc's endpoint index (with the right auth and every
declared status) and a `### METHOD /api/path/` section; neither names an operation the
schema lacks; every frame type the WebSocket sends, every close code and every probe route
is documented.

Recognised lines of the doc: index rows start `| GET | `/api/...` |` (columns: method, path,
auth, success, errors); sections are headings `### GET /api/...`.
"""

import ast
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern

from accounts.events import (
    PERSONAL_TOKEN_REVOKED,
    USER_CHANGED,
    USER_TIMEZONE_CHANGED,
    USER_TOKENS_ENDED,
)
from config import urls
from instances.events import (
    INSTANCE_COMPLETED,
    INSTANCE_DELETED,
    INSTANCE_SKIPPED,
    PROGRAM_FINISHED,
)
from realtime import consumers, routing
from telegram.events import BOT_CHANNEL, OUTBOX_READY
from transfer.events import IMPORT_QUEUED
from webhooks.events import WEBHOOK_OWED

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "API.md"
METHODS = "GET|POST|PUT|PATCH|DELETE"
INDEX_ROW = re.compile(rf"^\|\s*({METHODS})\s*\|\s*`?(/[^`|\s]*)`?\s*\|")
HEADING = re.compile(rf"^#{{2,4}}\s+({METHODS})\s+(/\S*)\s*$")
# Dotted names in the event modules never sent to a client: channel-layer plumbing, and
# recorded events whose reactions send no frame of their own type (a completion is seen as
# `instance.updated`, a finished program as `habit.updated`).
NOT_FRAMES = {
    BOT_CHANNEL, OUTBOX_READY, USER_TOKENS_ENDED, USER_TIMEZONE_CHANGED, USER_CHANGED,
    PERSONAL_TOKEN_REVOKED,
    INSTANCE_COMPLETED, INSTANCE_DELETED, INSTANCE_SKIPPED, PROGRAM_FINISHED, IMPORT_QUEUED,
    WEBHOOK_OWED,
}  # fmt: skip
FRAME_TYPE = re.compile(r"^[a-z]+(\.[a-z_]+)+$")

Operation = tuple[str, str]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def doc_lines() -> list[str]:
    return DOC.read_text(encoding="utf-8").splitlines()


def schema_operations(schema: dict[str, Any]) -> dict[Operation, dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def index_rows(lines: list[str]) -> dict[Operation, list[str]]:
    """The endpoint index: each row's operation and its remaining cells."""
    rows: dict[Operation, list[str]] = {}
    for line in lines:
        match = INDEX_ROW.match(line)
        if match:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows[(match[1], match[2])] = cells[2:]
    return rows


def headings(lines: list[str]) -> set[Operation]:
    return {(m[1], m[2]) for line in lines if (m := HEADING.match(line))}


def test_every_operation_has_an_index_row(schema: dict, doc_lines: list[str]) -> None:
    missing = set(schema_operations(schema)) - set(index_rows(doc_lines))
    assert not missing, f"operations without a row in the index of {DOC.name}: {sorted(missing)}"


def test_every_operation_has_a_section(schema: dict, doc_lines: list[str]) -> None:
    missing = set(schema_operations(schema)) - headings(doc_lines)
    assert not missing, f"operations without a `### METHOD path` section: {sorted(missing)}"


def test_index_names_no_operation_the_schema_lacks(schema: dict, doc_lines: list[str]) -> None:
    stale = set(index_rows(doc_lines)) - set(schema_operations(schema))
    assert not stale, f"index rows for operations the API does not have: {sorted(stale)}"


def test_sections_name_no_api_operation_the_schema_lacks(
    schema: dict, doc_lines: list[str]
) -> None:
    api_headings = {op for op in headings(doc_lines) if op[1].startswith("/api/")}
    stale = api_headings - set(schema_operations(schema))
    assert not stale, f"sections for operations the API does not have: {sorted(stale)}"


def test_every_schema_field_is_named_in_the_doc(schema: dict, doc_lines: list[str]) -> None:
    """Each property of each request and answer shape (a habit's `reminders`, a user's
    `quiet_hours`, ...) is named somewhere: in backticks, or as a key of an example."""
    doc = "\n".join(doc_lines)
    unnamed = [
        f"{shape}.{field}"
        for shape, body in schema["components"]["schemas"].items()
        for field in body.get("properties", {})
        if f"`{field}`" not in doc and f'"{field}"' not in doc
    ]
    assert not unnamed, f"fields docs/API.md never names: {unnamed}"


def test_every_code_block_is_closed(doc_lines: list[str]) -> None:
    """An unclosed fence swallows the sections after it (they stop rendering as headings)."""
    fences = [n for n, line in enumerate(doc_lines, start=1) if line.startswith("```")]
    for start, end in zip(fences[::2], fences[1::2], strict=False):
        inside = doc_lines[start : end - 1]
        assert not any(HEADING.match(line) for line in inside), (
            f"lines {start}-{end}: a section heading inside a code block (one left open?)"
        )
    assert len(fences) % 2 == 0, f"the code block opened at line {fences[-1]} is not closed"


def test_index_auth_matches_the_schema(schema: dict, doc_lines: list[str]) -> None:
    rows = index_rows(doc_lines)
    wrong = {
        op: rows[op][0]
        for op, operation in schema_operations(schema).items()
        if op in rows and rows[op][0] != ("Bearer" if operation.get("security") else "none")
    }
    assert not wrong, f"index rows whose auth column disagrees with the schema: {wrong}"


def test_index_lists_every_declared_status(schema: dict, doc_lines: list[str]) -> None:
    rows = index_rows(doc_lines)
    missing = {}
    for op, operation in schema_operations(schema).items():
        if op not in rows:
            continue
        listed = set(re.findall(r"\b\d{3}\b", " ".join(rows[op][1:])))
        if undocumented := set(operation["responses"]) - listed:
            missing[op] = sorted(undocumented)
    assert not missing, f"declared statuses missing from the index: {missing}"


def event_module_frame_types() -> set[str]:
    """The dotted type constants of every app's events module (`instance.updated`, ...) and
    of the frame builders (`stats.updated`)."""
    found: set[str] = set()
    for path in sorted([*ROOT.glob("*/events.py"), ROOT / "realtime" / "frames.py"]):
        module = importlib.import_module(f"{path.parent.name}.{path.stem}")
        found |= {
            value
            for name, value in vars(module).items()
            if name.isupper() and isinstance(value, str) and FRAME_TYPE.match(value)
        }
    return found - NOT_FRAMES


def consumer_frame_types() -> set[str]:
    """The literal types the socket sends itself: `self._send("hello", ...)` and the like."""
    tree = ast.parse(inspect.getsource(consumers))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "_send"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def test_every_server_frame_type_is_documented(doc_lines: list[str]) -> None:
    frame_types = event_module_frame_types() | consumer_frame_types()
    # The collectors themselves must keep finding what is known to exist.
    assert {"hello", "today.snapshot", "pong", "instance.updated", "stats.updated"} <= frame_types
    assert {"habit.created", "telegram.bound"} <= frame_types
    doc = "\n".join(doc_lines)
    missing = {t for t in frame_types if f"`{t}`" not in doc}
    assert not missing, f"WebSocket frame types not documented: {sorted(missing)}"


def test_every_close_code_is_documented(doc_lines: list[str]) -> None:
    codes = {v for k, v in vars(consumers).items() if k.startswith("CLOSE_") and isinstance(v, int)}
    assert codes, "no CLOSE_* constants found in realtime.consumers"
    missing = {c for c in codes if not any(line.startswith(f"| {c} |") for line in doc_lines)}
    assert not missing, f"WebSocket close codes without a row: {sorted(missing)}"


def test_the_socket_route_and_probes_are_documented(doc_lines: list[str]) -> None:
    doc = "\n".join(doc_lines)
    sockets = {f"/{p.pattern}" for p in routing.websocket_urlpatterns}
    probes = {
        f"GET /{p.pattern}"
        for p in urls.urlpatterns
        if isinstance(p, URLPattern) and str(p.pattern)
    }
    assert probes, "no top-level routes found in config.urls"
    missing = {s for s in sockets if f"`{s}`" not in doc} | {
        p for p in probes if f"### {p}" not in doc
    }
    assert not missing, f"routes not documented: {sorted(missing)}"
