"""End to end: the production web server on the test database, driven by headless Chromium.

Playwright's sync API keeps an asyncio loop running in the test's thread while a browser is
open, and Django refuses database work (and `async_to_sync`) inside a running loop. So every
piece of Django the tests call directly — factories, services, the sweep — goes through
`backend.run(...)`, which runs it in a thread of its own.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import time as time_of_day
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from accounts.models import User
from config.serving import web_command
from habits.models import Habit
from habits.services import habit_create
from instances.models import HabitInstance, Source
from instances.services import instance_complete
from tests.factories import DEFAULT_PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
NETWORK_NOISE = ("Failed to load resource", "WebSocket connection to")

T = TypeVar("T")

expect.set_options(timeout=TIMEOUT_MS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The production web command on the test database and the test Redis, in a process group
    of its own."""

    def __init__(self, *, name: str, port: int | None = None, **env: str) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ARTIFACTS / f"{name}.log"
        self.extra_env = env
        self.process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        db = settings.DATABASES["default"]
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            # The app's own origin (the socket admits the page from it only) is on this port.
            "PORT": str(self.port),
            # Webhooks may go to a receiver the test runs on the loopback.
            "WEBHOOK_ALLOW_PRIVATE": "1",
            **self.extra_env,
        }

    def start(self) -> None:
        env = self.env()
        ARTIFACTS.mkdir(exist_ok=True)
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                # Production's web command, two workers: a page's socket and its REST calls
                # may land in different processes, as they do in production.
                web_command("127.0.0.1", self.port, workers=2),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopped with its workers
            )
        self._wait_until_ready()

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"the web server exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        pytest.fail(f"the web server did not answer within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


class Worker(Server):
    """The Celery worker beside the server (what production runs): the stats a page follows
    live are computed by it."""

    def start(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"]
        command += ["-l", "info", "-n", f"e2e-{os.getpid()}@%h", "--without-gossip"]
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [*command, "--without-mingle"],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while " ready." not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{self.log()}")
            time.sleep(0.1)


@pytest.fixture(scope="package")
def server(django_db_setup: None) -> Iterator[Server]:
    """One server (and its worker) for the whole e2e package; each test makes its own users."""
    live, worker = Server(name="web"), Worker(name="worker")
    for process in (live, worker):
        process.log_path.unlink(missing_ok=True)
        process.start()
    yield live
    for process in (live, worker):  # all stopped first: a failed check must not leave one
        process.stop()  # running on the run's Redis slot, eating the later tests' messages
    for process in (live, worker):
        assert "Traceback" not in process.log(), process.log()


class Backend:
    """Runs Django code away from Playwright's event loop, and returns its result."""

    def run(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = function(*args, **kwargs)
            except BaseException as exc:  # re-raised in the test's thread
                outcome["error"] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=target)
        thread.start()
        thread.join(timeout=60)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Pages:
    """Browser contexts (each one a separate person or device) and their pages."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def new(self, url: str, *, timezone: str = "UTC", width: int = 1280, height: int = 860) -> Page:
        context = self.browser.new_context(
            viewport={"width": width, "height": height},
            timezone_id=timezone,
            locale="en-GB",
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message.type, message.text))
        page.goto(url)
        return page

    def _console(self, page: Page, kind: str, text: str) -> None:
        # The browser itself logs every 4xx answer (a 422 form error, say) and every refused
        # connection (a test that stops the server); only the page's own errors count.
        if kind == "error" and not text.startswith(NETWORK_NOISE):
            self.errors.append(f"{page.url}: {text}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    opened.close()
    assert not opened.errors, "the page had script errors:\n" + "\n".join(opened.errors)


def screenshot(page: Page, name: str) -> None:
    """Save what the user sees to test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True, animations="disabled")


def done_in_telegram(instance: HabitInstance) -> HabitInstance:
    """The owner presses Done under the instance's reminder in Telegram, now."""
    return instance_complete(
        instance_id=instance.pk, user_id=instance.user_id, at=timezone.now(), source=Source.TELEGRAM
    )


def sign_in(page: Page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the form and wait until the live connection is up."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect_live(page)


def expect_live(page: Page, timeout: float = TIMEOUT_MS) -> None:
    expect(page.get_by_role("banner").get_by_text("Live", exact=True)).to_be_visible(
        timeout=timeout
    )


# --- shared set-ups and finders (through `backend.run` for the Django ones) -------------------


def habit_later_today(action: str) -> tuple[User, Habit, HabitInstance]:
    """A UTC user whose habit, created as the API would, has an upcoming instance today."""
    user = UserFactory()
    now = timezone.now()
    at = min(now + timedelta(hours=2), now.replace(hour=23, minute=59))
    habit = habit_create(
        user=user,
        data={
            "action": action,
            "time_of_day": time_of_day(at.hour, at.minute),
            "reward_text": "tea",
        },
    )
    return user, habit, HabitInstance.objects.get(habit=habit, date=now.date())


def today_row(page: Page, action: str):
    """The instance's row on Today (or a list item naming the habit)."""
    return page.get_by_role("listitem").filter(has_text=action)


def habit_card(page: Page, action: str):
    """The habit's card: the list item headed by its name."""
    return (
        page.get_by_role("list", name="Your habits")
        .get_by_role("listitem")
        .filter(has=page.get_by_role("heading", name=action, exact=True))
    )


class TwoDevices(NamedTuple):
    """One person on a phone and a laptop, both signed in on Today; `loads` counts the
    laptop's page loads (what changes live must come without one)."""

    user: User
    phone: Page
    laptop: Page
    loads: list[int]


@pytest.fixture
def two_devices(server: Server, pages: Pages, backend: Backend) -> Callable[[str], TwoDevices]:
    """`two_devices("Swim")`: a user with that habit later today, open on both devices."""

    def open_both(action: str) -> TwoDevices:
        user = backend.run(habit_later_today, action)[0]
        phone = pages.new(server.url + "/", width=390, height=844)
        sign_in(phone, user.email)
        laptop = pages.new(server.url + "/")
        sign_in(laptop, user.email)
        expect(today_row(laptop, action)).to_contain_text("Upcoming")
        loads: list[int] = []
        laptop.on("load", lambda _: loads.append(1))
        return TwoDevices(user, phone, laptop, loads)

    return open_both
