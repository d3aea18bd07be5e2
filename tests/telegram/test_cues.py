"""Habit stacking (SPEC §8): completing the cue habit owes the stacked habit's open instance
that day one extra reminder at completion + delay, once, whichever door completed it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from instances.models import Source, Status
from instances.services import instance_complete
from telegram.models import OutboxKind, OutboxMessage, TelegramProfile
from telegram.services import outbox_claim
from tests.concurrency import raised, run_together
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)


def _stack(*, delay: int = 10, place: str = "the kitchen", bound: bool = True):
    user = UserFactory()
    if bound:
        TelegramProfile.objects.create(user=user, telegram_id=4000 + user.pk, access_hash=1)
    now = timezone.now()
    coffee = HabitFactory(user=user, action="pour coffee")
    stretch = HabitFactory(
        user=user, action="stretch", place=place, cue_habit=coffee, cue_delay_minutes=delay
    )
    cue = make_instance(coffee, now.date(), now - MINUTE, status=Status.PENDING)
    stacked = make_instance(stretch, now.date(), now + 30 * MINUTE)
    return user, cue, stacked


def _complete(user, instance, source=Source.WEB):
    return instance_complete(
        instance_id=instance.pk, user_id=user.pk, at=timezone.now(), source=source
    )


def _cues():
    return OutboxMessage.objects.filter(kind=OutboxKind.CUE)


@pytest.mark.parametrize("source", [Source.WEB, Source.TELEGRAM, Source.API])
def test_completing_the_cue_owes_one_reminder_at_completion_plus_delay(source):
    user, cue, stacked = _stack()

    done = _complete(user, cue, source)
    _complete(user, cue, source)  # a retried completion

    (row,) = _cues()
    assert row.instance_id == stacked.pk
    assert row.next_attempt_at == done.completed_at + 10 * MINUTE
    assert row.text == "After pour coffee: stretch at the kitchen"
    assert outbox_claim(now=done.completed_at + 9 * MINUTE) == []
    (delivery,) = outbox_claim(now=done.completed_at + 10 * MINUTE)
    assert (delivery.text, delivery.with_button) == (row.text, True)


def test_no_place_no_at():
    user, cue, _ = _stack(place="", delay=0)

    _complete(user, cue)

    assert _cues().get().text == "After pour coffee: stretch"


@pytest.mark.django_db(transaction=True)
def test_two_completions_at_once_owe_one_cue_reminder():
    user, cue, _ = _stack()

    results = run_together(*[lambda: _complete(user, cue)] * 3)

    assert raised(results) == []
    assert _cues().count() == 1


def test_a_stacked_instance_done_skipped_or_on_another_date_gets_nothing():
    user, cue, stacked = _stack()
    stacked.status = Status.COMPLETED
    stacked.completed_at = timezone.now()
    stacked.save()
    tomorrow = make_instance(
        stacked.habit, stacked.date + timedelta(days=1), stacked.scheduled_at + timedelta(days=1)
    )

    _complete(user, cue)

    assert not _cues().exists()
    assert tomorrow.pk


def test_done_before_the_cue_reminder_went_gives_it_up():
    user, cue, stacked = _stack()
    _complete(user, cue)

    _complete(user, stacked)

    assert _cues().get().given_up_at is not None


def test_a_user_without_telegram_gets_no_row():
    user, cue, _ = _stack(bound=False)

    _complete(user, cue)

    assert not _cues().exists()
