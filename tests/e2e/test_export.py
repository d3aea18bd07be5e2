"""The profile's Export (SPEC §9): both buttons download the user's own file, read back here."""

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.timezones import local_today
from instances.models import Pause, SkipReason, Status
from tests.e2e.conftest import Backend, Pages, Server, sign_in
from tests.factories import HabitFactory, UserFactory, make_instance

pytestmark = pytest.mark.django_db(transaction=True)


def _account() -> User:
    user = UserFactory(timezone="UTC")
    today = local_today("UTC")
    habit = HabitFactory(user=user, action="=stretch", start_date=today - timedelta(days=3))
    for n, status in ((3, Status.COMPLETED), (2, Status.MISSED), (1, Status.SKIPPED)):
        on = today - timedelta(days=n)
        at = datetime(on.year, on.month, on.day, 8, tzinfo=UTC)
        extra = {"skip_reason": SkipReason.TRAVEL} if status == Status.SKIPPED else {}
        make_instance(habit, on, at, status=status, note=f"day -{n}", **extra)
    Pause.objects.create(user=user, start_date=today, end_date=today + timedelta(days=2))
    HabitFactory(action="someone else's")
    return user


def test_both_exports_download_from_the_profile(server: Server, pages: Pages, backend: Backend):
    user = backend.run(_account)
    today = local_today("UTC")
    page = pages.new(server.url + "/#/profile")
    sign_in(page, user.email)
    section = page.get_by_role("region", name="Export")

    with page.expect_download() as json_download:
        section.get_by_role("button", name="Download JSON").click()
    download = json_download.value
    assert download.suggested_filename == f"atomic-habits-{today}.json"
    document = json.loads(Path(download.path()).read_bytes())
    assert (document["format"], document["user"]["email"]) == ("atomic-habits", user.email)
    assert [h["action"] for h in document["habits"]] == ["=stretch"]
    assert [(i["status"], i["note"]) for i in document["instances"]] == [
        ("completed", "day -3"), ("missed", "day -2"), ("skipped", "day -1"),
    ]  # fmt: skip
    assert [p["start_date"] for p in document["pauses"]] == [today.isoformat()]
    expect(page.get_by_text(f"JSON export downloaded: atomic-habits-{today}.json")).to_be_visible()

    with page.expect_download() as zip_download:
        section.get_by_role("button", name="Download Loop CSV").click()
    download = zip_download.value
    assert download.suggested_filename == f"atomic-habits-loop-{today}.zip"
    archive = zipfile.ZipFile(download.path())
    habits = list(csv.reader(io.StringIO(archive.read("Habits.csv").decode())))
    assert habits[0][:3] == ["Position", "Name", "Type"]
    assert habits[1][:3] == ["001", "'=stretch", "YES_NO"]
    checkmarks = archive.read("001 =stretch/Checkmarks.csv").decode().splitlines()
    assert checkmarks == [
        "Date,Value,Notes",
        f"{today - timedelta(days=1)},SKIP,day -1",
        f"{today - timedelta(days=2)},NO,day -2",
        f"{today - timedelta(days=3)},YES_MANUAL,day -3",
    ]
    expect(section.get_by_role("button", name="Download Loop CSV")).to_be_enabled()
