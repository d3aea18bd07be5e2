"""Changes made elsewhere — another tab, the Telegram bot, the deadline sweep — show up live."""

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from accounts.services import user_update
from accounts.timezones import local_today
from habits.models import Habit
from instances.models import HabitInstance, Status
from instances.services import instances_sweep
from telegram.services import BindOutcome, TelegramSender, bind_redeem
from tests.e2e.conftest import (
    Backend,
    Pages,
    Server,
    done_in_telegram,
    habit_later_today,
    screenshot,
    sign_in,
    today_row,
)
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db(transaction=True)


# Newest first, from yesterday back: two runs of five done, each ended by an expired day.
HISTORY = ["C", "L", "C", "C", "C", "X", "C", "C", "L", "C", "C", "X", "C", "C"]
STATUS_OF = {"C": Status.COMPLETED, "L": Status.COMPLETED_LATE, "X": Status.FIX_EXPIRED}


def _user_with_two_weeks_of_history(action: str) -> tuple[User, Habit]:
    """A daily habit begun two weeks ago: its past days resolved, today's still to come."""
    user, habit, _ = habit_later_today(action)
    today = timezone.now().date()
    Habit.objects.filter(pk=habit.pk).update(start_date=today - timedelta(days=len(HISTORY)))
    for days_ago, code in enumerate(HISTORY, start=1):
        on = today - timedelta(days=days_ago)
        at = datetime.combine(on, habit.time_of_day, tzinfo=UTC)
        status = STATUS_OF[code]
        done_at = at + timedelta(minutes=45 if code == "L" else 5)
        make_instance(habit, on, at, status=status, completed_at=done_at if code != "X" else None)
    return user, habit


def _instance_due(user: User, action: str, minutes_ago: int) -> HabitInstance:
    """An instance whose moment came `minutes_ago`, still `scheduled`: the sweep is due."""
    at = timezone.now() - timedelta(minutes=minutes_ago)
    habit = HabitFactory(user=user, action=action, time_of_day=at.time().replace(microsecond=0))
    return make_instance(habit, timezone.now().date(), at, status=Status.SCHEDULED)


def test_a_second_device_sees_a_completion_and_the_new_stats_live(
    server: Server, pages: Pages, backend: Backend
):
    user, habit = backend.run(_user_with_two_weeks_of_history, "Stretch")
    phone = pages.new(server.url + "/")
    sign_in(phone, user.email)
    laptop = pages.new(server.url + "/")
    sign_in(laptop, user.email)
    stats = pages.new(server.url + f"/#/habits/{habit.pk}")
    sign_in(stats, user.email)
    expect(stats.get_by_role("group", name="Current streak")).to_have_text(re.compile("^5"))
    expect(stats.get_by_role("group", name="Best streak")).to_have_text(re.compile("^5"))
    expect(stats.get_by_role("group", name="Success rate")).to_have_text(re.compile("^86%"))
    expect(
        stats.get_by_role("img", name=re.compile("Done: 10, Done late: 2, Expired: 2"))
    ).to_be_visible()
    loads = []
    laptop.on("load", lambda _: loads.append(1))
    stats.on("load", lambda _: loads.append(1))

    phone.get_by_role("button", name="Done: Stretch").click()

    expect(today_row(phone, "Stretch")).to_contain_text("Done at")
    expect(today_row(laptop, "Stretch")).to_contain_text("Done at")
    expect(today_row(laptop, "Stretch")).to_contain_text("on the web")
    expect(laptop.get_by_text("1 of 1")).to_be_visible()
    expect(stats.get_by_role("group", name="Current streak")).to_have_text(re.compile("^6"))
    expect(stats.get_by_role("group", name="Best streak")).to_have_text(re.compile("^6"))
    expect(stats.get_by_role("group", name="Success rate")).to_have_text(re.compile("^87%"))
    expect(stats.get_by_role("img", name=re.compile("Done: 11, Done late: 2"))).to_be_visible()
    assert loads == []  # nobody reloaded
    screenshot(stats, "07-habit-stats-live")


def test_a_done_pressed_in_telegram_shows_up_live(server: Server, pages: Pages, backend: Backend):
    user, _, instance = backend.run(habit_later_today, "Drink water")
    page = pages.new(server.url + "/")
    sign_in(page, user.email)
    expect(today_row(page, "Drink water")).to_contain_text("Upcoming")

    backend.run(done_in_telegram, instance)

    expect(today_row(page, "Drink water")).to_contain_text("via Telegram")
    expect(today_row(page, "Drink water").get_by_text("Done", exact=True)).to_be_visible()
    expect(page.get_by_text("1 of 1")).to_be_visible()


def skip_pressed_in_telegram(instance: HabitInstance) -> list[str]:
    """The bound owner presses Skip under the instance in Telegram: a real Telethon update
    through the bot's handlers (only the send to Telegram's servers is faked); returns the
    bot's answers."""
    from telegram.models import TelegramProfile
    from tests.telegram.conftest import API_HASH, API_ID, BOT_ID, Chat, FakeTelegram, telegram_user

    TelegramProfile.objects.create(user_id=instance.user_id, telegram_id=4242, access_hash=1)

    async def press() -> list[str]:
        from telethon import TelegramClient

        from telegram.handlers import BotHandlers

        fake = FakeTelegram()
        client = TelegramClient(None, API_ID, API_HASH)
        client._mb_entity_cache.set_self_user(BOT_ID, True, 1)
        client._sender.send = fake.send
        BotHandlers(client).register()
        await Chat(client, telegram_user(4242)).press(f"skip:{instance.pk}".encode())
        return [getattr(a, "message", "") or "" for a in fake.answers()]

    return asyncio.run(press())


def test_a_skip_pressed_in_telegram_shows_up_live(server: Server, pages: Pages, backend: Backend):
    user, _, instance = backend.run(habit_later_today, "Read a page")
    page = pages.new(server.url + "/")
    sign_in(page, user.email)
    expect(today_row(page, "Read a page")).to_contain_text("Upcoming")

    answers = backend.run(skip_pressed_in_telegram, instance)

    assert any("Skipped" in answer for answer in answers), answers
    expect(today_row(page, "Read a page")).to_contain_text("Skipped")
    expect(
        today_row(page, "Read a page").get_by_role("button", name=re.compile("Undo skip"))
    ).to_be_visible()
    screenshot(page, "17-today-skipped-from-telegram")


def test_the_deadline_sweep_moves_statuses_live(server: Server, pages: Pages, backend: Backend):
    user = backend.run(UserFactory)
    backend.run(_instance_due, user, "Walk the dog", minutes_ago=1)
    backend.run(_instance_due, user, "Take vitamins", minutes_ago=45)  # grace is 30 min
    page = pages.new(server.url + "/")
    sign_in(page, user.email)
    expect(today_row(page, "Walk the dog")).to_contain_text("Upcoming")
    expect(today_row(page, "Take vitamins")).to_contain_text("Upcoming")

    assert backend.run(instances_sweep) == 2

    expect(today_row(page, "Walk the dog")).to_contain_text("Due now")
    expect(today_row(page, "Take vitamins")).to_contain_text("Missed")
    expect(today_row(page, "Take vitamins")).to_contain_text(re.compile(r"fix it until \d\d:\d\d"))
    screenshot(page, "08-today-after-sweep")

    # A missed one can still be fixed, and counts as done late.
    page.get_by_role("button", name="Done: Take vitamins").click()
    expect(today_row(page, "Take vitamins")).to_contain_text("Done late")


def test_connecting_telegram_shows_the_code_then_turns_connected_live(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(UserFactory)
    page = pages.new(server.url + "/#/profile")
    sign_in(page, user.email)
    telegram = page.get_by_role("region", name="Telegram")
    expect(telegram.get_by_text("Not connected")).to_be_visible()

    telegram.get_by_role("button", name="Connect Telegram").click()

    command = telegram.get_by_text(re.compile(r"^/start [0-9A-Z]{10}$"))
    expect(command).to_be_visible()
    code = command.inner_text().removeprefix("/start ")
    expect(telegram.get_by_role("link", name="Open in Telegram")).to_have_attribute(
        "href", re.compile(rf"^https://t\.me/\w+\?start={code}$")
    )
    expect(telegram).to_contain_text("The code works once, until")
    screenshot(page, "09-profile-telegram-code")

    sender = TelegramSender(telegram_id=424242, access_hash=1, username="ann_tg")
    assert backend.run(bind_redeem, code=code, sender=sender) == BindOutcome.BOUND

    expect(telegram.get_by_text("Connected", exact=True)).to_be_visible()
    expect(telegram).to_contain_text("as @ann_tg")
    expect(telegram.get_by_text(code)).to_have_count(0)

    telegram.get_by_role("button", name="Disconnect Telegram").click()
    expect(telegram.get_by_text("Not connected")).to_be_visible()


def test_a_server_without_telegram_says_so_clearly(server: Server, pages: Pages, backend: Backend):
    user = backend.run(UserFactory)
    page = pages.new(server.url + "/#/profile")
    sign_in(page, user.email)
    page.route(
        "**/api/telegram/bind-code/",
        lambda route: route.fulfill(status=404, json={"detail": "Not found."}),
    )

    page.get_by_role("button", name="Connect Telegram").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Connecting Telegram is not available on this server yet. Please try again later."
    )


def test_a_move_to_another_timezone_made_elsewhere_shows_its_today_live(
    server: Server, pages: Pages, backend: Backend
):
    """The timezone changed by another door (here the service, as the admin or another tab
    would): this tab's Today turns to the new zone's local date and its instances, with no
    reload (the server sends a fresh `today.snapshot`; the page reads `me` for the zone)."""
    user, habit, _ = backend.run(habit_later_today, "Stretch")
    page = pages.new(server.url + "/")
    sign_in(page, user.email)
    expect(today_row(page, "Stretch")).to_be_visible()
    expect(page.get_by_text("· UTC")).to_be_visible()
    # A zone whose local date is not UTC's right now: a day ahead, or a day behind.
    zone = "Pacific/Kiritimati" if timezone.now().hour >= 10 else "Pacific/Pago_Pago"
    loads = []
    page.on("load", lambda _: loads.append(1))

    backend.run(lambda: user_update(user=User.objects.get(pk=user.pk), timezone_name=zone))

    expect(page.get_by_text(f"· {zone}")).to_be_visible()
    shown = backend.run(
        lambda: list(
            HabitInstance.objects.filter(habit=habit, date=local_today(zone)).values_list(
                "id", flat=True
            )
        )
    )
    rows = page.locator("[data-status]")
    expect(rows).to_have_count(len(shown))
    assert loads == []
