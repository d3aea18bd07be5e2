"""`GET /api/auth/me/` is served from its cache, and every change of what it shows shows at
the next request (accounts/me_cache.py), whatever its door."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from accounts.models import User
from accounts.schemas import UserOut
from core import near_cache, versioned_cache
from core.schemas import as_json
from tests.conftest import Api, answered_from_cache, count_redis_reads
from tests.factories import UserFactory

# Committed for real: the cache is forgotten after each change's commit.
pytestmark = pytest.mark.django_db(transaction=True)

ME = "/api/auth/me/"


@pytest.fixture
def client(owner_api: Api) -> Api:
    return owner_api  # tests/conftest.py: `owner`, in Berlin, logged in


def _me(client: Api) -> dict:
    response = client.get(ME)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_cached_answer_is_the_one_the_api_rendered(client, owner):
    first = answered_from_cache(client, ME)

    assert first.json() == as_json(UserOut, owner)
    assert set(first.json()) == {"id", "email", "timezone", "date_joined", "quiet_hours"}


def test_a_timezone_change_shows_at_the_next_request(client):
    _me(client)

    client.patch(ME, {"timezone": "Asia/Tokyo"})  # user.timezone_changed

    assert _me(client)["timezone"] == "Asia/Tokyo"


def test_quiet_hours_set_and_cleared_show_at_the_next_request(client):
    _me(client)

    client.patch(ME, {"quiet_hours": {"start": "22:00", "end": "07:00"}})  # user.changed
    assert _me(client)["quiet_hours"] == {"start": "22:00", "end": "07:00"}

    client.patch(ME, {"quiet_hours": None})
    assert _me(client)["quiet_hours"] is None


def test_an_email_changed_in_the_admin_shows_at_the_next_request(client, owner, admin_user):
    _me(client)
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    owner.email = "renamed@example.com"

    site._registry[User].save_model(request, owner, None, True)  # user.changed

    assert _me(client)["email"] == "renamed@example.com"


def test_each_user_gets_their_own_answer(client, owner):
    other = Api()
    other.login(UserFactory().email)
    _me(client)

    assert _me(other)["id"] != owner.pk
    assert _me(client)["id"] == owner.pk


def test_a_change_in_another_process_shows_where_the_answer_is_held_in_memory(client, monkeypatch):
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 60)  # only the report can tell
    _me(client)
    _me(client)  # stored by the first, read from Redis and kept by the second
    reads = count_redis_reads(monkeypatch)
    _me(client)
    assert reads == [0]  # answered from memory
    monkeypatch.setattr(versioned_cache, "near_forget", lambda keys: None)  # the others don't

    client.patch(ME, {"timezone": "Asia/Tokyo"})

    assert _me(client)["timezone"] == "Asia/Tokyo"
