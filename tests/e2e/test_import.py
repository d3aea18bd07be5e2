"""Importing from the profile page (SPEC §9): a Loop CSV zip uploaded in the browser, the
worker imports it, the bar follows its `import.progress` frames to the result line of
`import.finished`, and the habits are there without a reload. A file of no known format says
why it failed."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from habits.models import Habit
from instances.models import HabitInstance, Source
from tests.e2e.conftest import Backend, Pages, Server, screenshot, sign_in
from tests.factories import UserFactory
from tests.transfer.files import LoopHabit, loop_csv_zip

pytestmark = pytest.mark.django_db(transaction=True)


def _loop_file() -> bytes:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    run = LoopHabit(name="Run", numerator=3, denominator=7,
                    entries=[(yesterday - timedelta(days=n), [2, 0, 3][n % 3], "")
                             for n in range(100)])  # fmt: skip
    read = LoopHabit(
        name="Read", entries=[(yesterday - timedelta(days=n), 2, "") for n in range(64)]
    )
    return loop_csv_zip([run, read])


def test_a_loop_file_uploaded_on_the_profile_page_imports_with_a_progress_bar(
    server: Server, pages: Pages, backend: Backend
):
    user = backend.run(UserFactory)
    page = pages.new(server.url + "/")
    sign_in(page, user.email)
    page.goto(server.url + "/#/profile")
    card = page.get_by_role("region", name="Import")
    # The progress comes over the socket: upload once it is open (the badge says "Live"), as a
    # person would after the page came up; a busy machine once opened it after the import.
    expect(page.locator('#live[data-state="live"]')).to_be_attached(timeout=15_000)

    card.get_by_label("File to import").set_input_files(
        {"name": "Loop Habits CSV 2026-12-04.zip", "mimeType": "application/zip",
         "buffer": _loop_file()}
    )  # fmt: skip
    hidden_bar = card.locator("progress.import-bar")  # hidden until a file goes up
    # Every value the bar takes, as the page sets it: each change's old value as well as the
    # state after a batch (frames heard before the upload's answer are replayed in one go,
    # progress then result, and an observer called once sees only the end).
    hidden_bar.evaluate("""el => {
        window.barSteps = [];
        new MutationObserver((records) => {
            for (const r of records) window.barSteps.push([r.attributeName, r.oldValue]);
            window.barSteps.push(['now', String(el.value), String(el.max)]);
        }).observe(el, {attributes: true, attributeOldValue: true,
                        attributeFilter: ['value', 'max']});
    }""")
    card.get_by_role("button", name="Import", exact=True).click()

    result = card.get_by_role("status")
    expect(result).to_have_text("Imported: 2 habits, 164 days.", timeout=30_000)
    bar = card.get_by_role("progressbar", name="Import progress")
    expect(bar).to_be_visible()
    assert bar.evaluate("el => el.value === el.max")
    # The `import.progress` frames moved it: all 164 days of 164 before the result came.
    steps = page.evaluate("window.barSteps")
    assert ["now", "164", "164"] in steps or (
        ["value", "164"] in steps and ["max", "164"] in steps
    ), steps
    screenshot(page, "30-profile-import-finished")
    assert (
        backend.run(lambda: HabitInstance.objects.filter(user=user, source=Source.IMPORT).count())
        == 164
    )

    # The data was read again: the habits list has them without a reload of the page.
    page.get_by_role("link", name="Habits", exact=True).click()
    expect(page.get_by_role("link", name="Run", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Read", exact=True)).to_be_visible()
    assert backend.run(lambda: Habit.objects.filter(user=user).count()) == 2


def test_a_file_of_no_known_format_shows_why(server: Server, pages: Pages, backend: Backend):
    user = backend.run(UserFactory)
    page = pages.new(server.url + "/")
    sign_in(page, user.email)
    page.goto(server.url + "/#/profile")
    card = page.get_by_role("region", name="Import")

    card.get_by_label("File to import").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just some notes"}
    )
    card.get_by_role("button", name="Import", exact=True).click()

    expect(card.get_by_role("status")).to_contain_text(
        "The import failed: This file is not a format we can import", timeout=30_000
    )
