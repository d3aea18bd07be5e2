import pytest

from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_the_admin_needs_a_login(client):
    response = client.get("/admin/habits/habit/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/",
        "/admin/habits/habit/",
        "/admin/instances/habitinstance/",
        "/admin/telegram/outboxmessage/",
        "/admin/telegram/telegramprofile/",
        "/admin/django_celery_beat/periodictask/",
        "/admin/instances/generatedday/",
        "/admin/instances/pause/",
        "/admin/transfer/importjob/",
    ],
)
def test_each_admin_list_opens_with_filters_and_search(staff_client, path):
    habit = HabitFactory()
    make_instance(habit, habit.start_date, habit.created_at)

    response = staff_client.get(path, {"q": "habit"})

    assert response.status_code == 200


def test_the_admin_list_of_habits_filters_by_kind(staff_client):
    HabitFactory(action="useful one")

    response = staff_client.get("/admin/habits/habit/", {"is_pleasant__exact": "0"})

    assert b"useful one" in response.content


def test_a_pause_added_and_deleted_in_the_admin_moves_the_instances_like_the_api(staff_client):
    from datetime import UTC, datetime, timedelta

    from instances.models import Pause, Status

    owner = UserFactory(timezone="UTC")
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    habit = HabitFactory(user=owner, start_date=tomorrow)
    at = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 8, tzinfo=UTC)
    instance = make_instance(habit, tomorrow, at)

    added = staff_client.post(
        "/admin/instances/pause/add/",
        {"user": owner.pk, "habit": "", "start_date": tomorrow, "end_date": tomorrow,
         "reason": "sick"},
    )  # fmt: skip

    assert added.status_code == 302, added.content.decode()[-2000:]
    pause = Pause.objects.get(user=owner)
    instance.refresh_from_db()
    assert (instance.status, instance.skip_reason, instance.pause_id) == (
        "skipped",
        "sick",
        pause.pk,
    )

    deleted = staff_client.post(f"/admin/instances/pause/{pause.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    instance.refresh_from_db()
    assert (instance.status, instance.pause_id) == (Status.SCHEDULED, None)
