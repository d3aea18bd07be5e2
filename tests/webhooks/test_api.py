"""`/api/webhooks/`: written, read, changed and deleted by their owner; bad input is a 422
naming the field; an address that is not public is refused at creation."""

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from tests.factories import UserFactory
from webhooks import outbound
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # a public address (no DNS is asked: the resolver is replaced)
LONG = "https://hooks.example.com/" + "a" * 1990  # over 2,000 characters


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    """A DNS of the test's own: names map to the addresses the test gives."""
    names: dict[str, list[str]] = {"hooks.example.com": [PUBLIC]}

    def resolve(host: str, port: int) -> list[str]:
        if host in names:
            return names[host]
        if host.replace(".", "").isdigit() or ":" in host:
            return [host]
        raise OSError("no such host")

    monkeypatch.setattr(outbound, "resolve", resolve)
    return names


def _fields(response) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in response.json()["detail"]]


def test_a_hook_is_created_with_its_secret_shown_once(authed):
    made = authed.post(
        "/api/webhooks/",
        {"url": "https://hooks.example.com/in", "events": ["instance.updated", "habit.created"]},
    )

    assert made.status_code == 201, made.content
    body = made.json()
    assert body["secret"].startswith("whsec_")
    Verifier(body["secret"])  # a key the standard library takes
    assert body["events"] == ["instance.updated", "habit.created"]
    assert body["enabled"] is True
    listed = authed.get("/api/webhooks/").json()
    assert [h["id"] for h in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in authed.get(f"/api/webhooks/{body['id']}/").json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://hooks.example.com/", "events": ["instance.exploded"]}, "body.events"),
        ({"url": "https://hooks.example.com/", "events": ["hello"]}, "body.events"),
        ({"url": "https://hooks.example.com/", "events": []}, "body.events"),
        ({"url": "ftp://hooks.example.com/", "events": ["habit.created"]}, "body.url"),
        ({"url": "not a url", "events": ["habit.created"]}, "body.url"),
        ({"url": "https://nowhere.invalid/", "events": ["habit.created"]}, "body.url"),
        ({"url": "https://u:p@hooks.example.com/", "events": ["habit.created"]}, "body.url"),
        ({"url": "https://hooks.example.com:99999/", "events": ["habit.created"]}, "body.url"),
        ({"url": LONG, "events": ["pause.created"]}, "body.url"),
        ({"url": "https://hooks.example.com/", "events": "habit.created"}, "body.events"),
        ({"events": ["habit.created"]}, "body.url"),
        ({"url": "https://hooks.example.com/", "events": ["habit.created"], "x": 1}, "body.x"),
    ],
    ids=["unknown-event", "connection-frame", "no-event", "ftp", "not-url", "no-dns",
         "credentials", "bad-port", "too-long", "events-not-list", "no-url", "extra"],
)  # fmt: skip
def test_bad_input_is_a_422_naming_the_field(authed, body, field):
    answer = authed.post("/api/webhooks/", body)

    assert answer.status_code == 422, answer.content
    assert field in _fields(answer)
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
        "224.0.0.1", "240.0.0.1", "100.64.0.1", "::1", "fe80::1", "fc00::1", "ff02::1", "::",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    ],
)  # fmt: skip
def test_a_host_that_resolves_to_an_address_not_public_is_refused(authed, dns, settings, address):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    dns["inside.example.com"] = [PUBLIC, address]  # one bad address of several is enough

    by_name = authed.post(
        "/api/webhooks/", {"url": "https://inside.example.com/", "events": ["habit.created"]}
    )
    literal = f"[{address}]" if ":" in address else address
    by_address = authed.post(
        "/api/webhooks/", {"url": f"http://{literal}:8080/", "events": ["habit.created"]}
    )

    for answer in (by_name, by_address):
        assert answer.status_code == 422, answer.content
        assert _fields(answer) == ["body.url"]
        assert address in answer.json()["detail"][0]["msg"]


def test_loopback_is_admitted_only_when_the_setting_says_so(authed, settings):
    body = {"url": "http://127.0.0.1:8000/hook", "events": ["habit.created"]}
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert authed.post("/api/webhooks/", body).status_code == 201
    assert authed.post("/api/webhooks/", {**body, "url": "http://10.0.0.1/"}).status_code == 422
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert authed.post("/api/webhooks/", body).status_code == 422


def test_at_most_20_hooks_per_user(authed):
    body = {"url": "https://hooks.example.com/", "events": ["habit.created"]}
    for _ in range(20):
        assert authed.post("/api/webhooks/", body).status_code == 201

    answer = authed.post("/api/webhooks/", body)

    assert answer.status_code == 422
    assert _fields(answer) == ["body.url"]
    assert "20" in answer.json()["detail"][0]["msg"]


def test_patch_changes_and_re_enabling_starts_the_count_anew(authed, user):
    made = authed.post(
        "/api/webhooks/", {"url": "https://hooks.example.com/", "events": ["habit.created"]}
    ).json()
    Webhook.objects.filter(pk=made["id"]).update(
        enabled=False, failures_in_a_row=10, disabled_reason="10 failed deliveries in a row"
    )
    path = f"/api/webhooks/{made['id']}/"

    again = authed.patch(path, {"enabled": True, "events": ["pause.created", "habit.created"]})

    assert again.status_code == 200, again.content
    body = again.json()
    assert (body["enabled"], body["failures_in_a_row"], body["disabled_reason"]) == (True, 0, "")
    assert body["events"] == ["habit.created", "pause.created"]
    assert authed.patch(path, {"url": "gopher://x/"}).status_code == 422
    assert authed.patch(path, {"enabled": None}).status_code == 422
    assert authed.patch(path, {"events": ["nope"]}).status_code == 422
    off = authed.patch(path, {"enabled": False}).json()
    assert off["enabled"] is False


def test_another_users_hook_is_not_found(authed):
    other = Webhook.objects.create(
        user=UserFactory(), url="https://hooks.example.com/", events=["habit.created"], secret="x"
    )

    for method in ("get", "patch", "delete"):
        answer = getattr(authed, method)(f"/api/webhooks/{other.pk}/", **(
            {"json_body": {"enabled": False}} if method == "patch" else {}
        ))  # fmt: skip
        assert answer.status_code == 404
    assert authed.get(f"/api/webhooks/{other.pk}/deliveries/").status_code == 404
    assert Webhook.objects.filter(pk=other.pk, enabled=True).exists()


def test_delete_takes_the_deliveries_with_it(authed):
    made = authed.post(
        "/api/webhooks/", {"url": "https://hooks.example.com/", "events": ["habit.created"]}
    ).json()
    WebhookDelivery.objects.create(webhook_id=made["id"], event="habit.created", payload={})

    assert authed.delete(f"/api/webhooks/{made['id']}/").status_code == 204

    assert not WebhookDelivery.objects.exists()
    assert authed.get(f"/api/webhooks/{made['id']}/").status_code == 404


def test_no_token_is_401(api):
    assert api.get("/api/webhooks/").status_code == 401
