"""The admin is one more door: what it changes keeps the rules the API keeps, its refusals are
form errors (never a 500), and the owner's sockets hear what the API's change would tell.

Found by a trial of every door: a timezone changed here re-planned nothing, a habit could be
given to another owner while its instances stayed with the first, a reward could be made
useful, and a Telegram binding deleted here told nobody.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from accounts.models import PersonalToken, RefreshToken, User
from accounts.services import personal_token_create
from accounts.timezones import local_today
from core.errors import InvalidInput
from habits.models import Habit
from habits.services import habit_save
from instances.models import HabitInstance, Pause, Status
from telegram.models import TelegramProfile
from tests.config.test_admin_pages import _admin_form
from tests.conftest import Api
from tests.factories import (
    DEFAULT_PASSWORD,
    HabitFactory,
    PleasantHabitFactory,
    UserFactory,
    make_instance,
)
from tests.realtime.conftest import Socket, access_token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(db: None) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _user_form(user: User, **changes: str) -> dict[str, str]:
    """The user's change form as the admin posts it back, with `changes`."""
    data = {"email": user.email, "timezone": user.timezone, "is_active": "on", "_save": "Save"}
    return {**data, **changes}


def _tomorrow_at_2230(user: User) -> HabitInstance:
    """A habit of the user's at 22:30 from tomorrow (their zone, UTC), its first instance."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    habit = HabitFactory(user=user, start_date=tomorrow, time_of_day=time(22, 30))
    at = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 22, 30, tzinfo=UTC)
    return make_instance(habit, tomorrow, at, status=Status.SCHEDULED)


# --- a timezone ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_timezone_changed_in_the_admin_re_times_the_instances_like_the_api(admin_web):
    by_api, by_admin = await database_sync_to_async(
        lambda: (UserFactory(timezone="UTC"), UserFactory(timezone="UTC"))
    )()
    ours = await database_sync_to_async(_tomorrow_at_2230)(by_admin)
    theirs = await database_sync_to_async(_tomorrow_at_2230)(by_api)
    socket = Socket(await database_sync_to_async(access_token_for)(by_admin))
    assert (await socket.open())[0]
    await socket.frames_until_quiet(quiet=0.2)  # hello, today.snapshot

    def change_both() -> int:
        api = Api()
        api.login(by_api.email, DEFAULT_PASSWORD)
        assert api.patch("/api/auth/me/", {"timezone": "Asia/Tokyo"}).status_code == 200
        url = f"/admin/accounts/user/{by_admin.pk}/change/"
        return admin_web.post(url, _user_form(by_admin, timezone="Asia/Tokyo")).status_code

    assert await database_sync_to_async(change_both)() == 302
    frames = await socket.frames_until_quiet(quiet=0.5)

    def times() -> tuple[datetime, datetime]:
        read = HabitInstance.objects.values_list("scheduled_at", flat=True)
        return read.get(pk=ours.pk), read.get(pk=theirs.pk)

    admin_at, api_at = await database_sync_to_async(times)()
    assert admin_at == api_at == ours.scheduled_at.replace(hour=13)  # 22:30 in Tokyo
    # Their local date moved with them: a fresh snapshot of the new today (Tokyo's).
    (snapshot,) = [f["data"] for f in frames if f["type"] == "today.snapshot"]
    tokyo_today = await database_sync_to_async(
        lambda: set(
            HabitInstance.objects.filter(
                user=by_admin, date=local_today("Asia/Tokyo", timezone.now())
            ).values_list("id", flat=True)
        )
    )()
    assert {item["id"] for item in snapshot} == tokyo_today
    moved = [f for f in frames if f["type"] == "instance.updated"]
    assert [f["data"]["scheduled_at"] for f in moved] == [
        admin_at.isoformat().replace("+00:00", "Z")
    ]
    await socket.close()


# --- a habit ---------------------------------------------------------------------------------


def test_a_habit_keeps_its_owner_in_the_admin_and_in_the_service(admin_web):
    ann, bob = UserFactory(), UserFactory()
    habit = HabitFactory(user=ann)

    response = admin_web.post(
        f"/admin/habits/habit/{habit.pk}/change/", _admin_form(habit, user=bob.pk, place="park")
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    saved = Habit.objects.get(pk=habit.pk)
    assert (saved.user_id, saved.place) == (ann.pk, "park")  # the owner is shown, not posted
    saved.user = bob
    with pytest.raises(InvalidInput) as refused:
        habit_save(habit=saved)  # whatever else calls the admin's service
    assert refused.value.problems[0].field == "user"
    assert Habit.objects.get(pk=habit.pk).user_id == ann.pk


def test_a_reward_made_useful_in_the_admin_is_a_form_error_and_nothing_changes(admin_web):
    owner = UserFactory()
    bath = PleasantHabitFactory(user=owner, action="hot bath")
    run = HabitFactory(user=owner, action="run", related_pleasant_habit=bath, reward_text=None)

    response = admin_web.post(
        f"/admin/habits/habit/{bath.pk}/change/", _admin_form(bath, reward_text="cake")
    )

    assert response.status_code == 200  # the form again (PostgreSQL answered 500 before)
    assert "is the reward of" in response.content.decode()
    assert f"#{run.pk}" in response.content.decode()
    assert Habit.objects.get(pk=bath.pk).is_pleasant
    assert Habit.objects.get(pk=run.pk).related_pleasant_habit_id == bath.pk


# --- a pause ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "foreign", "field", "words"),
    [(400, False, "end_date", "at most 365 days"), (3, True, "habit", "one of your own habits")],
)
def test_a_pause_the_service_refuses_is_a_form_error_in_the_admin(
    admin_web, days, foreign, field, words
):
    owner = UserFactory()
    habit = HabitFactory(user=UserFactory() if foreign else owner)
    start = datetime.now(UTC).date()

    response = admin_web.post(
        "/admin/instances/pause/add/",
        {"user": owner.pk, "habit": habit.pk, "start_date": start,
         "end_date": start + timedelta(days=days - 1), "reason": "travel"},
    )  # fmt: skip

    assert response.status_code == 200  # the form again, not a 500
    errors = response.context["adminform"].form.errors
    assert words in str(errors[field]), errors
    assert not Pause.objects.exists()


# --- tokens and bindings ---------------------------------------------------------------------


def test_refresh_tokens_are_only_seen_and_deleted_in_the_admin(admin_web, user):
    login = Api().login(user.email, DEFAULT_PASSWORD)
    row = RefreshToken.objects.get(user=user)

    assert admin_web.get("/admin/accounts/refreshtoken/add/").status_code == 403
    shown = admin_web.get(f"/admin/accounts/refreshtoken/{row.pk}/change/")
    assert shown.status_code == 200
    assert not shown.context["has_change_permission"]
    admin_web.post(f"/admin/accounts/refreshtoken/{row.pk}/change/", {"revoked_at_0": ""})
    assert RefreshToken.objects.get(pk=row.pk).revoked_at == row.revoked_at

    deleted = admin_web.post(f"/admin/accounts/refreshtoken/{row.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert Api().post("/api/auth/refresh/", {"refresh": login["refresh"]}).status_code == 401


def test_a_personal_token_deleted_in_the_admin_stops_working_at_once(admin_web, user):
    issued = personal_token_create(user=user, name="kitchen", scopes=["read"])
    assert Api().get("/api/habits/", token=issued.secret).status_code == 200  # now cached

    deleted = admin_web.post(
        f"/admin/accounts/personaltoken/{issued.row.pk}/delete/", {"post": "yes"}
    )

    assert deleted.status_code == 302
    assert not PersonalToken.objects.exists()
    assert Api().get("/api/habits/", token=issued.secret).status_code == 401


@pytest.mark.django_db(transaction=True)
async def test_a_user_with_tokens_deleted_in_the_admin_is_gone_and_their_socket_closes(admin_web):
    def make() -> tuple[User, str]:
        user = UserFactory()
        personal_token_create(user=user, name="kitchen", scopes=["read"])
        return user, Api().login(user.email, DEFAULT_PASSWORD)["access"]

    user, access = await database_sync_to_async(make)()
    socket = Socket(access)
    assert (await socket.open())[0]
    await socket.frames_until_quiet(quiet=0.2)

    url = f"/admin/accounts/user/{user.pk}/delete/"
    response = await database_sync_to_async(admin_web.post)(url, {"post": "yes"})

    assert response.status_code == 302  # not 403 "no permission to delete personal tokens"
    assert await socket.closed_with() == 4401
    assert not await database_sync_to_async(User.objects.filter(pk=user.pk).exists)()


@pytest.mark.django_db(transaction=True)
async def test_a_binding_deleted_in_the_admin_is_an_unbinding_the_owner_hears(admin_web):
    def make() -> tuple[User, TelegramProfile]:
        user = UserFactory()
        return user, TelegramProfile.objects.create(user=user, telegram_id=777, username="ann")

    user, profile = await database_sync_to_async(make)()
    socket = Socket(await database_sync_to_async(access_token_for)(user))
    assert (await socket.open())[0]
    await socket.frames_until_quiet(quiet=0.2)

    def through_the_admin() -> tuple[int, int]:
        added = admin_web.get("/admin/telegram/telegramprofile/add/").status_code
        url = f"/admin/telegram/telegramprofile/{profile.pk}/delete/"
        return added, admin_web.post(url, {"post": "yes"}).status_code

    assert await database_sync_to_async(through_the_admin)() == (403, 302)
    frames = await socket.frames_until_quiet(quiet=0.5)
    assert [f["type"] for f in frames] == ["telegram.unbound"]
    assert not await database_sync_to_async(TelegramProfile.objects.exists)()
    await socket.close()
