"""Every operation of the OpenAPI schema, walked under each scope with a real personal token:
403 exactly where SPEC §10 says the scope does not reach, never where it does.

The expectation is written here from the spec, apart from the declarations in the routers
(`JWTAuth(scope=...)`), so a new endpoint is checked against what the spec says of its area;
an area the table does not know fails the walk until someone decides where it belongs.
"""

import re
from typing import Any

import pytest
from django.test import Client

from accounts.personal_tokens import IMPLIED, Scope
from accounts.services import personal_token_create
from tests.conftest import Api

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
# SPEC §10: these take only a login access token.
LOGIN_ONLY = ("/api/tokens/", "/api/webhooks/", "/api/auth/", "/api/telegram/", "/api/calendar/")
# `complete` = read + complete, skip (and its undoing), snooze, note.
COMPLETE = {
    ("POST", "/api/instances/{instance_id}/complete/"),
    ("POST", "/api/instances/{instance_id}/skip/"),
    ("DELETE", "/api/instances/{instance_id}/skip/"),
    ("POST", "/api/instances/{instance_id}/snooze/"),
    ("PATCH", "/api/instances/{instance_id}/"),  # the note
}
# Every import and export operation needs `write`, whatever its method.
WRITE_ONLY = ("/api/export/", "/api/import/")
# The rest of these: GET needs `read`, anything else `write`.
BY_METHOD = ("/api/habits/", "/api/instances/", "/api/pauses/")
MADE_UP_ID = "987654"


def expected_scope(method: str, path: str) -> Scope | None:
    """What a personal token needs for the operation by the spec; None: login tokens only."""
    if path.startswith(LOGIN_ONLY):
        return None
    if (method, path) in COMPLETE:
        return Scope.COMPLETE
    if path.startswith(WRITE_ONLY):
        return Scope.WRITE
    if path.startswith(BY_METHOD):
        return Scope.READ if method == "GET" else Scope.WRITE
    raise AssertionError(f"{method} {path}: an area SPEC §10 names nowhere; classify it here")


def authenticated_operations() -> list[tuple[str, str]]:
    schema = Client().get("/api/openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS and operation.get("security")
    ]


def call(api: Api, method: str, path: str) -> Any:
    url = re.sub(r"\{[^}]+\}", MADE_UP_ID, path)
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return api.request(method, url, body)


@pytest.fixture
def tokens(user) -> dict[Scope, str]:
    return {
        scope: personal_token_create(user=user, name=scope, scopes=[scope]).secret
        for scope in Scope
    }


def test_the_walk_covers_every_kind_of_operation():
    needed = {expected_scope(m, p) for m, p in authenticated_operations()}
    assert needed == {None, Scope.READ, Scope.COMPLETE, Scope.WRITE}


@pytest.mark.parametrize("scope", list(Scope))
def test_every_operation_refuses_exactly_what_the_scope_does_not_reach(user, tokens, scope):
    client = Api(tokens[scope])
    wrong = []
    for method, path in authenticated_operations():
        needed = expected_scope(method, path)
        reaches = needed is not None and needed in IMPLIED[scope]
        response = call(client, method, path)
        if (response.status_code == 403) == reaches or response.status_code in (401, 500):
            wrong.append(f"{method} {path}: {response.status_code}, expected reach={reaches}")
    assert not wrong, "\n".join(wrong)


def test_a_login_token_is_never_refused_for_its_kind(authed):
    for method, path in authenticated_operations():
        if (method, path) in {("POST", "/api/auth/logout-all/")}:
            continue  # would end the login token the walk goes on with
        assert call(authed, method, path).status_code not in (401, 403), (method, path)


def test_a_refusal_says_why(user, tokens):
    read = Api(tokens[Scope.READ])
    past = read.post(f"/api/instances/{MADE_UP_ID}/complete/")
    login_only = read.get("/api/auth/me/")
    assert past.status_code == login_only.status_code == 403
    assert "complete" in past.json()["detail"]
    assert "login" in login_only.json()["detail"]
