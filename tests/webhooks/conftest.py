from collections.abc import Iterator

import pytest
from django.utils import timezone

from accounts.models import User
from instances.models import HabitInstance, Source
from instances.services import instance_complete
from tests.factories import HabitFactory, make_instance
from tests.webhooks.receiver import Receiver
from webhooks.models import Webhook


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def loopback(settings) -> None:
    """The receiver is on the loopback: admitted, as under the development settings."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


def hook_for(user: User, url: str, events: list[str] | None = None) -> Webhook:
    from webhooks.services import webhook_create

    return webhook_create(user=user, url=url, events=events or ["instance.updated"])


def open_instance(user: User) -> HabitInstance:
    habit = HabitFactory(user=user)
    return make_instance(habit, timezone.localdate(), timezone.now())


def complete(instance: HabitInstance) -> HabitInstance:
    return instance_complete(
        instance_id=instance.pk, user_id=instance.user_id, at=timezone.now(), source=Source.WEB
    )
