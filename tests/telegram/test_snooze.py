"""Snooze (SPEC §8): the API and the "+15 min" / "+1 h" buttons owe one more reminder, sent
at most once and only while the instance is open and before its fix deadline (RELIABILITY R1)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.utils import timezone

from instances.models import HabitInstance, Source, Status
from instances.services import instance_complete, instance_skip, instances_sweep
from telegram.handlers import NOT_LINKED
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from telegram.relay import Relay
from telegram.services import (
    LEASE,
    instance_snooze,
    notifications_decide,
    outbox_claim,
    outbox_sent,
)
from tests.concurrency import raised, run_together
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db(transaction=True)

ANN = 1001


def _instance(user, *, status: str = Status.PENDING, started: timedelta = timedelta(seconds=5)):
    """An instance of `user` that began `started` ago (grace 30 min, fix window 120 min)."""
    now = timezone.now()
    habit = HabitFactory(user=user, start_date=now.date(), action="stretch")
    return make_instance(habit, now.date(), now - started, status=status)


def _bind(user, telegram_id: int = ANN) -> None:
    TelegramProfile.objects.create(user=user, telegram_id=telegram_id, access_hash=3)


def _snoozes() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind=OutboxKind.SNOOZE))


def snooze_path(instance: HabitInstance) -> str:
    return f"/api/instances/{instance.pk}/snooze/"


# --- the API ---------------------------------------------------------------------------------


def test_snooze_owes_one_more_reminder_at_remind_at(authed, user):
    _bind(user)
    instance = _instance(user)
    before = timezone.now()

    response = authed.post(snooze_path(instance), {"minutes": 15})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["instance"]["id"], body["instance"]["status"]) == (instance.pk, "pending")
    remind_at = datetime.fromisoformat(body["remind_at"])  # to the millisecond
    ms = timedelta(milliseconds=1)
    assert (
        before + timedelta(minutes=15) - ms <= remind_at <= timezone.now() + timedelta(minutes=15)
    )
    (row,) = _snoozes()
    assert (row.instance_id, row.telegram_id) == (instance.pk, ANN)
    assert abs(row.next_attempt_at - remind_at) < ms


def test_a_user_without_telegram_may_snooze_and_is_owed_no_message(authed, user):
    response = authed.post(snooze_path(_instance(user)), {"minutes": 60})

    assert response.status_code == 200
    assert _snoozes() == []


@pytest.mark.parametrize("minutes", [4, 721, 0, -5, "soon", None])
def test_minutes_out_of_range_are_422_naming_minutes(authed, user, minutes):
    _bind(user)

    response = authed.post(snooze_path(_instance(user)), {"minutes": minutes})

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "minutes"]]
    assert _snoozes() == []


def test_a_reminder_past_the_fix_deadline_is_422_naming_minutes(authed, user):
    _bind(user)
    instance = _instance(user)  # fix deadline in about 150 minutes

    response = authed.post(snooze_path(instance), {"minutes": 151})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "minutes"]
    assert "after the fix deadline" in error["msg"]
    assert _snoozes() == []
    assert authed.post(snooze_path(instance), {"minutes": 149}).status_code == 200


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.SKIPPED, Status.FIX_EXPIRED])
def test_an_instance_not_open_is_409(authed, user, status):
    _bind(user)

    response = authed.post(snooze_path(_instance(user, status=status)), {"minutes": 15})

    assert response.status_code == 409
    assert "only an open instance can be snoozed" in response.json()["detail"]
    assert _snoozes() == []


def test_another_users_instance_is_404_and_no_token_is_401(authed, api):
    other = _instance(UserFactory())

    assert authed.post(snooze_path(other), {"minutes": 15}).status_code == 404
    assert authed.post("/api/instances/999999999/snooze/", {"minutes": 15}).status_code == 404
    assert api.post(snooze_path(other), {"minutes": 15}).status_code == 401
    assert _snoozes() == []


# --- sending: at most once, only while open and before the fix deadline ----------------------


def _snoozed(minutes: int = 15, **instance: object) -> tuple[HabitInstance, OutboxMessage]:
    user = UserFactory()
    _bind(user, telegram_id=ANN + user.pk)
    opened = _instance(user, **instance)
    snoozed = instance_snooze(instance_id=opened.pk, user_id=user.pk, minutes=minutes)
    (row,) = OutboxMessage.objects.filter(instance=opened)
    assert row.next_attempt_at == snoozed.remind_at
    return opened, row


def test_a_snooze_is_sent_at_its_time_once():
    _, row = _snoozed(30)

    assert outbox_claim(now=row.next_attempt_at - timedelta(seconds=1)) == []
    (delivery,) = outbox_claim(now=row.next_attempt_at)
    assert delivery.text.startswith("⏰ Time for: stretch (home). Done by ")
    assert (delivery.with_button, delivery.snooze_minutes) == (True, (15, 60))
    outbox_sent(message_id=delivery.id, telegram_message_id=1)

    assert outbox_claim(now=row.next_attempt_at + LEASE * 5) == []


@pytest.mark.parametrize("outcome", ["done", "skipped", "expired", "past the fix deadline"])
def test_a_snooze_is_never_sent_for_an_instance_done_skipped_or_expired_by_then(outcome):
    instance, row = _snoozed(60, status=Status.MISSED, started=timedelta(minutes=45))
    at = row.next_attempt_at
    if outcome == "done":
        instance_complete(
            instance_id=instance.pk, user_id=instance.user_id, at=timezone.now(),
            source=Source.TELEGRAM,
        )  # fmt: skip
    elif outcome == "skipped":
        instance_skip(instance_id=instance.pk, user_id=instance.user_id)
    elif outcome == "expired":
        HabitInstance.objects.filter(pk=instance.pk).update(status=Status.FIX_EXPIRED)
    else:  # not swept yet, but too late all the same
        at = instance.fix_deadline + timedelta(seconds=1)

    assert outbox_claim(now=at) == []
    row.refresh_from_db()
    assert row.sent_at is None
    assert row.given_up_at is not None
    assert row.last_error


def test_two_claims_racing_take_each_snooze_once():
    owed = {_snoozed(5)[1].pk for _ in range(10)}
    at = timezone.now() + timedelta(minutes=6)

    results = run_together(*[lambda: outbox_claim(now=at)] * 3)

    assert raised(results) == []
    assert sorted(d.id for result in results for d in result) == sorted(owed)


def test_a_snooze_claimed_by_a_bot_that_died_is_sent_after_the_lease_only():
    _, row = _snoozed(5)
    at = row.next_attempt_at
    assert [d.id for d in outbox_claim(now=at)] == [row.pk]  # the bot died before sending

    assert outbox_claim(now=at + LEASE / 2) == []
    (retry,) = outbox_claim(now=at + LEASE)
    outbox_sent(message_id=retry.id, telegram_message_id=3)
    assert outbox_claim(now=at + LEASE * 5) == []


def test_only_the_snooze_buttons_that_fit_before_the_fix_deadline_are_offered():
    # Missed 115 minutes into a 150-minute day: 35 minutes left, room for +15 min only.
    _snoozed(5, status=Status.MISSED, started=timedelta(minutes=115))

    (delivery,) = outbox_claim(now=timezone.now() + timedelta(minutes=6))

    assert delivery.snooze_minutes == (15,)
    assert delivery.text.startswith("⏰ Still time for: stretch (home). Fix it until ")


# --- the buttons in Telegram ------------------------------------------------------------------


def _reminded() -> HabitInstance:
    user = UserFactory()
    _bind(user)
    now = timezone.now()
    habit = HabitFactory(user=user, start_date=now.date(), action="stretch")
    instance = make_instance(habit, now.date(), now - timedelta(seconds=5))
    instances_sweep()
    assert notifications_decide() == 1
    return instance


async def test_the_snooze_buttons_under_a_reminder_bring_it_back_once(bot, chat_as, fake_telegram):
    instance = await database_sync_to_async(_reminded)()
    assert await Relay(bot).deliver_due() == 1
    (reminder,) = fake_telegram.sent()
    assert fake_telegram.buttons(reminder) == [
        ("Done ✅", f"done:{instance.pk}".encode()),
        ("Skip ⏭", f"skip:{instance.pk}".encode()),
        ("+15 min", f"snooze:{instance.pk}:15".encode()),
        ("+1 h", f"snooze:{instance.pk}:60".encode()),
    ]

    await chat_as(ANN).press(f"snooze:{instance.pk}:15".encode())

    (row,) = await database_sync_to_async(_snoozes)()
    (answer,) = fake_telegram.answers()
    at = row.next_attempt_at.astimezone(UTC).strftime("%H:%M")
    assert answer.message == f"Snoozed: I will remind you of stretch at {at} ⏰"
    assert not answer.alert
    assert await Relay(bot).deliver_due() == 0  # not before its time

    with time_machine.travel(row.next_attempt_at + timedelta(seconds=1)):
        assert await Relay(bot).deliver_due() == 1
        assert await Relay(bot).deliver_due() == 0
    again = fake_telegram.sent()[1]
    assert again.message.startswith("⏰ Time for: stretch")
    assert [label for label, _ in fake_telegram.buttons(again)] == [
        "Done ✅", "Skip ⏭", "+15 min", "+1 h",
    ]  # fmt: skip


async def test_snooze_refusals_are_answered_in_words(bot, chat_as, fake_telegram):
    def setup() -> tuple[HabitInstance, HabitInstance, HabitInstance]:
        user = UserFactory(timezone="UTC")
        _bind(user)
        done = _instance(user, status=Status.COMPLETED)
        late = _instance(user, status=Status.MISSED, started=timedelta(minutes=130))
        others = _instance(UserFactory())
        return done, late, others

    done, late, others = await database_sync_to_async(setup)()
    chat = chat_as(ANN)

    await chat.press(f"snooze:{done.pk}:15".encode())
    await chat.press(f"snooze:{late.pk}:60".encode())
    await chat.press(f"snooze:{others.pk}:15".encode())
    await chat_as(ANN + 1, "bob").press(f"snooze:{late.pk}:15".encode())

    conflict, too_late, not_found, not_linked = fake_telegram.answers()
    assert conflict.message == ("This instance is completed; only an open instance can be snoozed.")
    assert conflict.alert
    until = late.fix_deadline.astimezone(UTC).strftime("%H:%M")
    assert too_late.message == (
        "I could not snooze it: a reminder then would come after the fix deadline "
        f"({until}); snooze less."
    )
    assert too_late.alert
    assert not_found.message == "Not found."
    assert not_linked.message == NOT_LINKED
    assert await database_sync_to_async(_snoozes)() == []
