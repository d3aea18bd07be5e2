"""The token-state cache: no user query per request, never stale after a commit (SPEC §3)."""

import time

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts import services, token_state
from accounts.models import User
from core import near_cache, versioned_cache
from tests.conftest import Api, count_redis_reads
from tests.system.harness import PrivateRedis, unreachable_redis

pytestmark = pytest.mark.django_db

ME = "/api/auth/me/"
TODAY = "/api/instances/today/"


def _queries(api: Api, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(path).status_code == 200
    return [query["sql"] for query in ctx.captured_queries]


def test_a_cached_token_state_costs_no_user_query(authed):
    first = _queries(authed, TODAY)
    again = _queries(authed, TODAY)

    assert len(first) == 2, first  # the user's token state, then today's list
    assert again == []  # both cached: not even the user is read


def test_handlers_that_read_other_user_fields_load_them_in_one_query(authed, user):
    _queries(authed, TODAY)  # caches the token's state

    queries = _queries(authed, ME)
    body = authed.get(ME).json()

    assert len(queries) == 1, queries
    assert (body["email"], body["timezone"]) == (user.email, user.timezone)


def test_logout_all_ends_a_cached_token_at_once(authed, user):
    token = authed.token
    _queries(authed, TODAY)

    services.user_logout_all(user=User.objects.get(pk=user.pk))

    assert Api(token).get(TODAY).status_code == 401


def test_a_logout_all_in_another_process_ends_a_token_held_in_memory(authed, user, monkeypatch):
    """The token state answered from memory (core/near_cache.py) learns of another
    process's logout-all through Redis's report of the forgotten entry."""
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 60)  # only the report can tell
    _queries(authed, ME)
    _queries(authed, ME)  # stored in Redis by the first, read from Redis and kept by the second
    reads = count_redis_reads(monkeypatch)
    _queries(authed, ME)
    assert reads == [0]  # the state came from memory
    monkeypatch.setattr(versioned_cache, "near_forget", lambda keys: None)  # the others don't

    services.user_logout_all(user=User.objects.get(pk=user.pk))

    assert authed.get(ME).status_code == 401


def test_a_timezone_change_is_seen_by_the_next_request(authed, user):
    _queries(authed, TODAY)

    assert authed.patch(ME, {"timezone": "Asia/Tokyo"}).status_code == 200

    assert token_state.token_state(user.pk).timezone == "Asia/Tokyo"


def test_deactivation_in_the_admin_ends_a_cached_token_at_once(authed, user, admin_user):
    _queries(authed, TODAY)
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    user.is_active = False

    site._registry[User].save_model(request, user, form=None, change=True)

    assert authed.get(TODAY).status_code == 401


def test_a_row_changed_behind_the_services_back_holds_within_the_ttl(authed, user, monkeypatch):
    monkeypatch.setattr(token_state.TOKEN_STATES, "ttl", 1)
    _queries(authed, TODAY)

    User.objects.filter(pk=user.pk).update(is_active=False)

    assert authed.get(TODAY).status_code == 200  # the documented bound, not yet passed
    time.sleep(1.2)
    assert authed.get(TODAY).status_code == 401


def test_a_state_read_before_a_logout_all_committed_is_never_cached(user, monkeypatch):
    """The request read the old version; the logout-all committed and forgot before the store."""
    read = token_state._from_db

    def read_then_commit_elsewhere(user_id: int) -> token_state.TokenState | None:
        stale = read(user_id)
        User.objects.filter(pk=user_id).update(token_version=stale.token_version + 1)
        token_state.token_state_forget(user_id)
        return stale

    monkeypatch.setattr(token_state, "_from_db", read_then_commit_elsewhere)
    assert token_state.token_state(user.pk).token_version == 0  # this request may pass...
    monkeypatch.setattr(token_state, "_from_db", read)

    assert token_state.token_state(user.pk).token_version == 1  # ...the next one may not


def test_without_redis_every_request_reads_the_database(authed, monkeypatch):
    monkeypatch.setattr(versioned_cache, "get_redis", unreachable_redis)

    assert authed.get(TODAY).status_code == 200
    assert authed.get(TODAY).status_code == 200


def test_a_token_held_in_memory_is_not_trusted_once_redis_is_gone(
    user, settings, tmp_path, monkeypatch
):
    """Redis stopped: another process's logout-all could not be reported, so this one must
    not answer from memory; it reads the database."""
    private = PrivateRedis(tmp_path)
    private.start()
    try:
        settings.REDIS_URL = private.url
        monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 60)  # only the closed link tells
        client = Api()
        client.login(user.email)
        for _ in range(3):  # missed, then read from Redis and kept, then from memory
            assert client.get(ME).status_code == 200
        monkeypatch.setattr(versioned_cache, "near_forget", lambda keys: None)  # not ours
        private.stop()

        services.user_logout_all(user=User.objects.get(pk=user.pk))

        assert client.get(ME).status_code == 401
    finally:
        private.stop()
