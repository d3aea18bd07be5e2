"""Deliveries: owed in the change's transaction, sent signed by the Standard Webhooks spec to a
real receiver on the loopback, retried with the same id and growing delays, the hook switched
off after 10 failures in a row; every delivery's URL checked again (DNS can change)."""

import json
import socket
from datetime import timedelta

import pytest
import urllib3
from django.conf import settings as conf
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as Verifier

from core.schemas import as_json
from instances.schemas import InstanceOut
from instances.selectors import instances_by_ids
from tests.factories import UserFactory
from tests.webhooks.conftest import complete, hook_for, open_instance
from webhooks import outbound, services
from webhooks.models import Webhook, WebhookDelivery
from webhooks.sender import hook_send

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback")]


def _due_now(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_completion_reaches_the_receiver_signed_with_the_frames_data(user, receiver):
    hook = hook_for(user, receiver.url)
    done = complete(open_instance(user))

    owed = WebhookDelivery.objects.get(webhook=hook)
    assert owed.event == "instance.updated"
    assert owed.attempt == 0
    assert hook_send(hook.pk) == 1

    [got] = receiver.requests
    payload = Verifier(hook.secret).verify(got.body, got.headers)
    assert payload["type"] == "instance.updated"
    assert payload["data"] == json.loads(
        json.dumps(as_json(InstanceOut, instances_by_ids([done.pk]).get()))
    )
    assert payload["data"]["status"] == "completed"
    owed.refresh_from_db()
    assert got.headers["webhook-id"] == owed.message_id
    assert (owed.attempt, owed.status_code, owed.error) == (1, 200, "")
    assert owed.delivered_at is not None
    assert owed.next_attempt_at is None


def test_a_tampered_body_or_another_secret_does_not_verify(user, receiver):
    from standardwebhooks.webhooks import WebhookVerificationError

    hook = hook_for(user, receiver.url)
    complete(open_instance(user))
    hook_send(hook.pk)
    [got] = receiver.requests

    with pytest.raises(WebhookVerificationError):
        Verifier(hook.secret).verify(got.body.replace(b"completed", b"missed"), got.headers)
    with pytest.raises(WebhookVerificationError):
        Verifier(services.secret_new()).verify(got.body, got.headers)


def test_a_change_rolled_back_owes_nothing(user, receiver):
    hook_for(user, receiver.url)
    instance = open_instance(user)

    owed_inside = []

    def complete_then_fail() -> None:
        with transaction.atomic():
            complete(instance)
            owed_inside.append(WebhookDelivery.objects.count())  # with the change, inside
            raise RuntimeError("the request failed after the completion")

    with pytest.raises(RuntimeError):
        complete_then_fail()

    assert owed_inside == [1]

    assert not WebhookDelivery.objects.exists()


def test_only_the_owners_enabled_hooks_subscribed_to_the_frame_type(user, receiver):
    mine = hook_for(user, receiver.url)
    hook_for(user, receiver.url, ["habit.created"])
    off = hook_for(user, receiver.url)
    Webhook.objects.filter(pk=off.pk).update(enabled=False)
    hook_for(UserFactory(), receiver.url)

    complete(open_instance(user))

    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == [mine.pk]


def test_a_500_is_retried_with_the_same_id_and_growing_delays(user, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    receiver.status = 500
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))
    owed = WebhookDelivery.objects.get()

    waits = []
    for _ in range(3):
        before = timezone.now()
        hook_send(hook.pk)
        owed.refresh_from_db()
        waits.append((owed.next_attempt_at - before).total_seconds())
        assert hook_send(hook.pk) == 0  # not due yet
        _due_now(owed)

    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len(receiver.requests) == 3
    assert (owed.attempt, owed.status_code) == (3, 500)
    assert owed.error.startswith("HTTP 500")
    assert 10 <= waits[0] <= 12.6
    assert 30 <= waits[1] <= 37.6
    assert 90 <= waits[2] <= 112.6


def test_the_schedule_makes_at_least_6_tries_over_at_least_an_hour():
    assert conf.WEBHOOK_MAX_ATTEMPTS >= 6
    first_six = sum(services.retry_delay(n) for n in range(1, 6))
    assert first_six >= 3600


def test_a_delivery_given_up_after_the_last_try(user, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.status = 503
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))
    owed = WebhookDelivery.objects.get()

    hook_send(hook.pk)
    _due_now(owed)
    hook_send(hook.pk)

    owed.refresh_from_db()
    assert owed.attempt == 2
    assert owed.given_up_at is not None
    assert owed.next_attempt_at is None


def test_10_failures_in_a_row_switch_the_hook_off_and_tell_the_owner(
    user, receiver, events_of, django_capture_on_commit_callbacks
):
    receiver.status = 500
    hook = hook_for(user, receiver.url)
    watcher = hook_for(user, receiver.url, ["webhook.disabled"])
    for _ in range(4):
        complete(open_instance(user))
    probe = events_of(user)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            hook_send(hook.pk)
            WebhookDelivery.objects.filter(webhook=hook).update(next_attempt_at=timezone.now())
    hook.refresh_from_db()

    assert len(receiver.requests) == 10  # 4 + 4 + the first 2 of the third pass
    assert (hook.enabled, hook.failures_in_a_row) == (False, 10)
    assert hook.disabled_reason.startswith("10 failed deliveries in a row")
    [frame] = probe.of_type("webhook.disabled")
    assert frame["data"] == {"id": hook.pk, "url": hook.url, "reason": hook.disabled_reason}
    told = WebhookDelivery.objects.get(webhook=watcher)  # another hook hears of it
    assert told.payload["data"] == frame["data"]
    assert hook_send(hook.pk) == 0  # off: nothing more is sent


def test_a_success_resets_the_count(user, receiver):
    receiver.status = 500
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))
    hook_send(hook.pk)
    receiver.status = 204
    complete(open_instance(user))
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())

    hook_send(hook.pk)

    hook.refresh_from_db()
    assert hook.failures_in_a_row == 0
    assert WebhookDelivery.objects.filter(delivered_at__isnull=False).count() == 2


def test_redirects_are_not_followed(user, receiver):
    target = type(receiver)()  # where the redirect points
    try:
        receiver.status, receiver.location = 302, target.url
        hook = hook_for(user, receiver.url)
        complete(open_instance(user))

        hook_send(hook.pk)

        owed = WebhookDelivery.objects.get()
        assert owed.status_code == 302
        assert "redirect" in owed.error
        assert owed.delivered_at is None
        assert len(receiver.requests) == 1
        assert target.requests == []
    finally:
        target.close()


@pytest.mark.parametrize("now_resolves_to", ["10.0.0.7", "169.254.169.254", "::ffff:10.0.0.1"])
def test_a_host_whose_dns_changed_is_refused_at_delivery(
    user, receiver, monkeypatch, now_resolves_to
):
    port = receiver.server.server_port
    answers = {"hooks.example.com": ["127.0.0.1"]}
    monkeypatch.setattr(outbound, "resolve", lambda host, port: answers[host])
    hook = hook_for(user, f"http://hooks.example.com:{port}/hook")
    complete(open_instance(user))
    answers["hooks.example.com"] = ["127.0.0.1", now_resolves_to]

    hook_send(hook.pk)

    owed = WebhookDelivery.objects.get()
    assert owed.error.startswith("refused: URL host hooks.example.com resolves to")
    assert owed.status_code is None
    assert owed.next_attempt_at is not None
    assert receiver.requests == []


def test_the_request_goes_to_the_checked_address_with_the_name_as_host(user, receiver, monkeypatch):
    port = receiver.server.server_port
    asked = []

    def resolve(host, port):
        asked.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(outbound, "resolve", resolve)
    hook = hook_for(user, f"http://hooks.example.com:{port}/in?x=1")
    complete(open_instance(user))
    asked.clear()

    hook_send(hook.pk)

    assert asked == ["hooks.example.com"]  # one lookup, the one checked
    [got] = receiver.requests
    assert got.headers["Host"] == f"hooks.example.com:{port}"
    assert got.path == "/in?x=1"


def test_loopback_refused_at_delivery_once_the_setting_is_off(user, receiver, settings):
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))
    settings.WEBHOOK_ALLOW_PRIVATE = False

    hook_send(hook.pk)

    assert "loopback" in WebhookDelivery.objects.get().error
    assert receiver.requests == []


def test_a_slow_receiver_times_out(user, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.delay = 1.5
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))

    hook_send(hook.pk)

    owed = WebhookDelivery.objects.get()
    assert owed.error == "no answer within 0.5 s"
    assert owed.delivered_at is None


def test_a_refused_connection_says_so_not_that_time_ran_out(user, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = hook_for(user, f"http://127.0.0.1:{port}/in")
    complete(open_instance(user))

    hook_send(hook.pk)

    owed = WebhookDelivery.objects.get()
    assert owed.error == "connection failed: ConnectionRefusedError"
    assert owed.delivered_at is None


def test_the_log_keeps_the_last_50_finished_and_every_one_owed(user, receiver, authed):
    hook = hook_for(user, receiver.url)
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hook, event="instance.updated", payload={"n": n},
                        delivered_at=now, status_code=200, attempt=1)
        for n in range(60)
    )  # fmt: skip
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hook, event="instance.updated", payload={"n": 60 + n},
                        next_attempt_at=now + timedelta(hours=1))
        for n in range(3)
    )  # fmt: skip

    hook_send(hook.pk)

    kept = WebhookDelivery.objects.filter(webhook=hook)
    assert kept.filter(next_attempt_at__isnull=True).count() == 50
    assert sorted(d.payload["n"] for d in kept) == list(range(10, 63))
    listed = authed.get(f"/api/webhooks/{hook.pk}/deliveries/").json()
    assert len(listed) == 50
    assert set(listed[0]) == {
        "id", "event", "attempt", "status_code", "error", "created_at", "delivered_at"
    }  # fmt: skip
    assert listed[0]["id"] > listed[-1]["id"]  # newest first


def test_a_hook_switched_off_owes_its_bound_owner_a_telegram_notice(user, receiver, settings):
    from telegram.models import OutboxKind, OutboxMessage, TelegramProfile

    settings.WEBHOOK_DISABLE_AFTER = 2
    TelegramProfile.objects.create(user=user, telegram_id=4242, access_hash=7)
    receiver.status = 500
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))
    complete(open_instance(user))

    hook_send(hook.pk)

    [notice] = OutboxMessage.objects.filter(kind=OutboxKind.NOTICE)
    assert notice.telegram_id == 4242
    assert notice.text.startswith(f"⚠️ Your webhook to {receiver.url} was switched off: 2 failed")
    assert notice.sent_at is None
    assert notice.next_attempt_at is not None


def test_without_telegram_no_notice_is_owed(user, receiver, settings):
    from telegram.models import OutboxMessage

    settings.WEBHOOK_DISABLE_AFTER = 1
    receiver.status = 500
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))

    hook_send(hook.pk)

    hook.refresh_from_db()
    assert hook.enabled is False
    assert not OutboxMessage.objects.exists()


def test_every_event_type_is_a_frame_the_socket_sends_and_the_doc_names():
    from pathlib import Path

    from config.reactions import FRAME_OF
    from webhooks.events import EVENT_TYPES

    doc = (Path(__file__).resolve().parents[2] / "docs" / "API.md").read_text()
    assert set(EVENT_TYPES) == set(FRAME_OF.values())
    for event in EVENT_TYPES:
        assert f"| `{event}` |" in doc, event


def test_the_readme_example_verifies_a_real_delivery(user, receiver):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))
    hook_send(hook.pk)
    [got] = receiver.requests
    namespace: dict = {}
    exec(code.replace('"whsec_..."', repr(hook.secret)), namespace)

    event = namespace["receive"](got.body, got.headers)

    assert event["type"] == "instance.updated"
    assert namespace["receive"](got.body + b" ", got.headers) is None


def test_a_hook_deleted_while_its_delivery_is_under_way_ends_quietly(user, receiver):
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))
    delivery = WebhookDelivery.objects.get()
    Webhook.objects.filter(pk=hook.pk).delete()

    assert services.delivery_settle(delivery_id=delivery.pk, status_code=200, error="") is False


def test_only_the_head_of_a_big_answer_is_read(user, receiver, monkeypatch):
    read_sizes = []
    real_read = urllib3.response.HTTPResponse.read

    def read(self, amt=None, *args, **kwargs):
        read_sizes.append(amt)
        return real_read(self, amt, *args, **kwargs)

    monkeypatch.setattr(urllib3.response.HTTPResponse, "read", read)
    receiver.status, receiver.body = 500, b"x" * 5_000_000
    hook = hook_for(user, receiver.url)
    complete(open_instance(user))

    hook_send(hook.pk)

    owed = WebhookDelivery.objects.get()
    assert owed.status_code == 500
    assert owed.error == "HTTP 500: " + "x" * 200
    assert read_sizes == [outbound.BODY_CAP]


@pytest.mark.django_db(transaction=True)
def test_beats_run_sends_every_hooks_due_deliveries_pass_after_pass(receiver, loopback):
    from webhooks.sender import THREADS
    from webhooks.tasks import send_deliveries

    users = [UserFactory() for _ in range(THREADS + 3)]  # more hooks than one pass claims
    for user in users:
        hook_for(user, receiver.url)
        complete(open_instance(user))

    assert send_deliveries.run() == len(users)  # what beat runs: no hook named

    assert len(receiver.requests) == len(users)
    assert not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()
    assert not Webhook.objects.filter(busy_until__isnull=False).exists()  # every claim released
