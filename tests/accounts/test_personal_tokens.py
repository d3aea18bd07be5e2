"""Personal access tokens (SPEC §10): hash-only storage, one admitting rule with login tokens,
revocation at once everywhere, the ends shared with login tokens, last_used_at per minute."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts import personal_tokens, services
from accounts.models import PersonalToken, User
from core import near_cache, versioned_cache
from tests.conftest import Api, count_redis_reads

pytestmark = pytest.mark.django_db

TOKENS = "/api/tokens/"
HABITS = "/api/habits/"
ME = "/api/auth/me/"


def create(authed: Api, name: str = "nfc tag", scopes: list[str] | None = None, **extra) -> dict:
    body = {"name": name, "scopes": scopes or ["write"], **extra}
    response = authed.post(TOKENS, body)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_token_is_shown_once_and_lets_its_owner_in(authed, user):
    made = create(authed, scopes=["read"])

    assert made["token"].startswith("aht_")
    assert len(made["token"]) >= 4 + 43  # 32 random bytes in URL-safe base64: 256 bits
    assert made["token"].startswith(made["prefix"])
    assert Api(made["token"]).get(HABITS).status_code == 200
    listed = authed.get(TOKENS).json()
    assert [t["id"] for t in listed] == [made["id"]]
    assert "token" not in listed[0]
    assert made["token"] not in authed.get(TOKENS).content.decode()


def test_only_the_hash_is_stored(authed):
    secret = create(authed)["token"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_personaltoken")
        rows = cursor.fetchall()
    stored = " ".join(str(value) for row in rows for value in row)
    assert len(rows) == 1
    assert secret not in stored
    assert secret[len(personal_tokens.PREFIX) + personal_tokens.DISPLAY_CHARS :] not in stored
    assert personal_tokens.hash_secret(secret) in stored


def test_two_tokens_never_share_a_secret(authed):
    first, second = create(authed)["token"], create(authed)["token"]
    assert first != second


def test_a_bad_secret_is_refused(authed):
    secret = create(authed)["token"]
    assert Api(secret[:-1] + ("A" if secret[-1] != "A" else "B")).get(HABITS).status_code == 401
    assert Api("aht_").get(HABITS).status_code == 401


def test_revoke_fails_the_token_at_once_even_right_after_a_cached_answer(authed, monkeypatch):
    made = create(authed)
    client = Api(made["token"])
    assert client.get(HABITS).status_code == 200
    assert client.get(HABITS).status_code == 200  # stored in Redis, held in memory
    reads = count_redis_reads(monkeypatch)
    client.get(HABITS)
    assert reads == [0]  # the token and its user's state came from memory

    assert authed.delete(f"{TOKENS}{made['id']}/").status_code == 204

    assert client.get(HABITS).status_code == 401
    assert authed.get(TOKENS).json() == []
    assert PersonalToken.objects.get(pk=made["id"]).revoked_at is not None


def test_a_revoke_in_another_process_ends_a_token_held_in_memory(authed, user, monkeypatch):
    """Another web worker revokes: this process hears Redis's report of the forgotten entry
    (core/near_cache.py), as it does for a logout-all."""
    monkeypatch.setattr(near_cache, "LIVENESS_SECONDS", 60)  # only the report can tell
    made = create(authed)
    client = Api(made["token"])
    client.get(HABITS)
    client.get(HABITS)
    reads = count_redis_reads(monkeypatch)
    client.get(HABITS)
    assert reads == [0]
    monkeypatch.setattr(versioned_cache, "near_forget", lambda keys: None)  # the others don't

    services.personal_token_revoke(user=User.objects.get(pk=user.pk), token_id=made["id"])

    assert client.get(HABITS).status_code == 401


def test_revoking_twice_or_someone_elses_token(authed, user):
    made = create(authed)
    other = Api()
    other.login(User.objects.create_user("other@example.com", "a-long-enough-passphrase").email)

    assert other.delete(f"{TOKENS}{made['id']}/").status_code == 404
    assert Api(made["token"]).get(HABITS).status_code == 200
    assert authed.delete(f"{TOKENS}{made['id']}/").status_code == 204
    assert authed.delete(f"{TOKENS}{made['id']}/").status_code == 204
    assert authed.delete(f"{TOKENS}999999/").status_code == 404


@pytest.mark.parametrize("end", ["logout_all", "password", "deactivate"])
def test_what_ends_login_tokens_ends_personal_ones(authed, user, end):
    secret = create(authed)["token"]
    client = Api(secret)
    assert client.get(HABITS).status_code == 200  # cached

    fresh = User.objects.get(pk=user.pk)
    if end == "logout_all":
        assert authed.post("/api/auth/logout-all/").status_code == 204
    elif end == "password":
        services.user_password_change(
            user=fresh, old_password="a-long-enough-passphrase", new_password="another-pass-2026"
        )
    else:
        services.user_deactivate(user=fresh)

    assert client.get(HABITS).status_code == 401
    if end == "deactivate":  # back again: the old token stays ended
        fresh = User.objects.get(pk=user.pk)
        fresh.is_active = True
        fresh.save(update_fields=["is_active"])
        assert client.get(HABITS).status_code == 401
    assert not PersonalToken.objects.filter(revoked_at__isnull=True).exists()


def test_an_expired_token_is_refused(authed):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        secret = create(authed, expires_in_days=1)["token"]
        assert Api(secret).get(HABITS).status_code == 200
    with time_machine.travel(start + timedelta(days=1, seconds=-1), tick=False):
        assert Api(secret).get(HABITS).status_code == 200
    with time_machine.travel(start + timedelta(days=1, seconds=1), tick=False):
        assert Api(secret).get(HABITS).status_code == 401


def test_last_used_is_kept_to_the_minute_and_written_at_most_once_a_minute(authed):
    # In the next minute: a login token issued now must not look issued in the future.
    start = (timezone.now() + timedelta(minutes=1)).replace(second=10, microsecond=0)
    with time_machine.travel(start, tick=False):
        made = create(authed)
        client = Api(made["token"])
        assert made["last_used_at"] is None
        with _counting_updates() as updates:
            for _ in range(5):
                assert client.get(HABITS).status_code == 200
        assert len(updates) == 1, updates
        row = PersonalToken.objects.get(pk=made["id"])
        assert row.last_used_at == start.replace(second=0)
    with time_machine.travel(start + timedelta(seconds=49), tick=False):  # still that minute
        with _counting_updates() as updates:
            client.get(HABITS)
        assert updates == []
    with time_machine.travel(start + timedelta(seconds=55), tick=False):  # the next minute
        with _counting_updates() as updates:
            client.get(HABITS)
            client.get(HABITS)
        assert len(updates) == 1, updates
        listed = authed.get(TOKENS).json()[0]
    assert listed["last_used_at"].startswith(
        (start + timedelta(minutes=1)).replace(second=0).strftime("%Y-%m-%dT%H:%M:00")
    )


def test_the_update_itself_writes_once_a_minute_whatever_the_processes(authed):
    """Another process (its own memory) using the token in the same minute writes nothing."""
    made = create(authed)
    now = timezone.now()
    assert personal_tokens.personal_token_touch(made["id"], now) is True
    personal_tokens._touched.clear()  # as a second process would be
    assert personal_tokens.personal_token_touch(made["id"], now) is False


class _counting_updates:
    def __enter__(self) -> list[str]:
        from django.test.utils import CaptureQueriesContext

        self.ctx = CaptureQueriesContext(connection)
        self.ctx.__enter__()
        self.found: list[str] = []
        return self.found

    def __exit__(self, *exc: object) -> None:
        self.ctx.__exit__(*exc)
        self.found.extend(
            q["sql"]
            for q in self.ctx.captured_queries
            if "UPDATE" in q["sql"] and "personaltoken" in q["sql"]
        )


def test_at_most_fifty_tokens(authed):
    for n in range(personal_tokens.MAX_PER_USER):
        create(authed, name=f"t{n}")

    refused = authed.post(TOKENS, {"name": "one more", "scopes": ["read"]})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "name"]
    first = authed.get(TOKENS).json()[-1]["id"]
    assert authed.delete(f"{TOKENS}{first}/").status_code == 204
    create(authed, name="room again")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 101, "scopes": ["read"]}, "name"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "ok", "scopes": ["admin"]}, "scopes"),
        ({"name": "ok", "scopes": []}, "scopes"),
        ({"name": "ok", "scopes": "read"}, "scopes"),
        ({"name": "ok", "scopes": ["read"], "expires_in_days": 0}, "expires_in_days"),
        ({"name": "ok", "scopes": ["read"], "expires_in_days": 10**12}, "expires_in_days"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(authed, body, field):
    response = authed.post(TOKENS, body)
    assert response.status_code == 422, response.content
    assert ["body", field] in [d["loc"][:2] for d in response.json()["detail"]]
    assert not PersonalToken.objects.exists()


def test_a_name_of_exactly_100_characters_is_fine(authed):
    assert create(authed, name="x" * 100)["name"] == "x" * 100


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_personal_token_cannot_manage_tokens(authed, method):
    secret = create(authed, scopes=["write"])["token"]
    response = getattr(Api(secret), method)(
        TOKENS, *([{"name": "n", "scopes": ["read"]}] * (method == "post"))
    )
    assert response.status_code == 403
    made = authed.get(TOKENS).json()[0]
    assert Api(secret).delete(f"{TOKENS}{made['id']}/").status_code == 403


def test_the_admin_lists_and_revokes_through_the_service(authed, client):
    made = create(authed)
    token = Api(made["token"])
    assert token.get(HABITS).status_code == 200  # cached
    staff = User.objects.create_user("staff@example.com", "a-long-enough-passphrase")
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(staff)
    page = "/admin/accounts/personaltoken/"

    listed = client.get(page, {"q": made["prefix"]})
    assert listed.status_code == 200
    assert made["prefix"] in listed.content.decode()
    assert made["token"] not in listed.content.decode()
    revoked = client.post(page, {"action": "revoke_tokens", "_selected_action": [made["id"]]})

    assert revoked.status_code == 302
    assert token.get(HABITS).status_code == 401
