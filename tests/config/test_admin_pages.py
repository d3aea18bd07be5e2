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


def _admin_form(habit, **changes) -> dict:
    """The habit's change form as the admin would post it back, with `changes`."""
    import json

    data = {
        "user": habit.user_id, "action": habit.action, "place": habit.place,
        "time_of_day": habit.time_of_day.strftime("%H:%M:%S"), "is_pleasant": "",
        "reward_text": habit.reward_text or "", "related_pleasant_habit": "",
        "periodicity_days": habit.periodicity_days, "repeat_limit": habit.repeat_limit,
        "grace_minutes": habit.grace_minutes, "fix_minutes": habit.fix_minutes,
        "start_date": habit.start_date.isoformat(), "is_active": "on",
        "reminders": json.dumps(habit.reminders), "cue_habit": habit.cue_habit_id or "",
        "cue_delay_minutes": habit.cue_delay_minutes,
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_offsets_changed_in_the_admin_re_arm_the_open_instance_like_the_api(staff_client):
    """The admin's door is the services' (habit_save): new offsets move `next_reminder_at` of
    the open instances, kept ascending like the API keeps them."""
    import json
    from datetime import UTC, datetime, timedelta

    from habits.models import Habit
    from instances.models import HabitInstance, Status

    owner = UserFactory(timezone="UTC")
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    habit = HabitFactory(user=owner, start_date=at.date(), time_of_day=at.time())
    instance = make_instance(habit, at.date(), at, status=Status.SCHEDULED)
    assert instance.next_reminder_at is None  # [0]: only the on-time one

    response = staff_client.post(
        f"/admin/habits/habit/{habit.pk}/change/",
        _admin_form(habit, reminders=json.dumps([30, -15, 0])),
    )

    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Habit.objects.get(pk=habit.pk).reminders == [-15, 0, 30]
    instance = HabitInstance.objects.get(pk=instance.pk)
    assert instance.next_reminder_at == at - timedelta(minutes=15)


def test_a_cue_cycle_or_bad_offsets_are_refused_by_the_admin_form(staff_client):
    import json

    from habits.models import Habit

    owner = UserFactory()
    coffee = HabitFactory(user=owner)
    journal = HabitFactory(user=owner, cue_habit=coffee)

    change = f"/admin/habits/habit/{coffee.pk}/change/"
    cycle = staff_client.post(change, _admin_form(coffee, cue_habit=journal.pk))
    twice = staff_client.post(change, _admin_form(coffee, reminders=json.dumps([5, 5])))

    assert cycle.status_code == 200  # the form again, with the error on the field
    assert "cycle" in cycle.content.decode()
    assert twice.status_code == 200
    assert "distinct" in twice.content.decode()
    coffee = Habit.objects.get(pk=coffee.pk)
    assert (coffee.cue_habit_id, coffee.reminders) == (None, [0])
