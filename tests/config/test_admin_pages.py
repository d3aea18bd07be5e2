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
