"""Two web nodes behind one proxy, sharing PostgreSQL and Redis (README, "Running many nodes").

Each node is `python -m config.run` as `make run` starts it, on a port of its own, with its
own uvicorn workers, Celery worker and near caches: node A runs beat too (one per
deployment), node B `RUN_PROCESSES=web,worker`. Caddy in front lists both as upstreams and
says which one answered a request (`X-Upstream`, set by this test's Caddyfile only).
"""

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from websockets.sync.client import connect

from accounts.models import User
from instances.models import HabitInstance, Status
from telegram.models import TelegramProfile
from tests.system.conftest import CRASHES, Live, _other_sessions
from tests.system.harness import ROOT, PrivateRedis, connection_to, free_port, wait_until
from tests.system.test_journey import MadeRun
from tests.system.test_redis_outage import habit, minutes_ago

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
CLOSE_UNAUTHORIZED = 4401
TELEGRAM_ID = 4242


class Node(MadeRun):
    """One node: the run command on its own port, with `processes` of the run's."""

    def __init__(self, workdir: Path, *, processes: str, **urls: str) -> None:
        workdir.mkdir()
        super().__init__(workdir, **urls)
        self.with_beat = "beat" in processes
        # Lean on two cores: two uvicorn workers, one Celery child.
        self.env.update(RUN_PROCESSES=processes, WEB_WORKERS="2", CELERY_CONCURRENCY="1")

    def ready(self) -> bool:
        log = self.log("run")
        if " ready." not in log or (self.with_beat and "beat: Starting" not in log):
            return False
        try:
            return requests.get(self.base + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def kill_web(self) -> None:
        """SIGKILL to the node's web server and its workers: the node is lost, no goodbye."""
        # honcho starts each process through a shell leading a process group of its own.
        [web] = [
            pid
            for pid in _descendants(self.processes["run"].pid)
            if b"config.web_pool" in _argv(pid) and os.getpgid(pid) == pid
        ]
        os.killpg(web, signal.SIGKILL)

    def web_workers(self) -> list[int]:
        """The uvicorn worker processes, each on a socket of its own on the node's port."""
        found = _descendants(self.processes["run"].pid)
        return [pid for pid in found if _argv(pid).split(b"\0")[1:3] == [b"-m", UVICORN_WORKER]]

    def in_each_worker(self, path: str, token: str) -> list[int]:
        """The status of GET `path` answered by each web worker in turn, each on a connection
        it accepted (tests/system/harness.py `connection_to`)."""
        workers = self.web_workers()
        assert len(workers) == 2, workers
        statuses = []
        for worker in workers:
            connection = connection_to(worker, workers, self.port)
            try:
                connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                statuses.append(connection.getresponse().status)
            finally:
                connection.close()
        return statuses


UVICORN_WORKER = b"config.uvicorn_worker"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    found = _children(pid)
    return found + [d for child in found for d in _descendants(child)]


def _argv(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class Proxy:
    """Caddy on a port of its own, round-robin over the nodes (deploy/Caddyfile's role)."""

    def __init__(self, workdir: Path, port: int, upstreams: list[str]) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        workdir.mkdir()
        config = workdir / "Caddyfile"
        config.write_text(
            "{\n\tadmin off\n\tauto_https off\n}\n"
            f"http://127.0.0.1:{port} {{\n"
            f"\treverse_proxy {' '.join(upstreams)} {{\n"
            "\t\tlb_policy round_robin\n"
            # A node that refuses connections is skipped: the request goes to the other.
            "\t\tlb_try_duration 5s\n"
            "\t\tfail_duration 30s\n"
            "\t\theader_down X-Upstream {http.reverse_proxy.upstream.hostport}\n"
            "\t}\n}\n"
        )
        env = {**os.environ, "HOME": str(workdir), "XDG_DATA_HOME": str(workdir / "data"),
               "XDG_CONFIG_HOME": str(workdir / "config")}  # fmt: skip
        assert shutil.which("caddy"), "caddy is not installed: make test installs it (apt caddy)"
        with (workdir / "caddy.log").open("w") as log:
            self.process = subprocess.Popen(
                ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until(self._answers, 20, "caddy answering")

    def _answers(self) -> bool:
        assert self.process.poll() is None, "caddy exited"
        try:
            return requests.get(self.base + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class Deployment:
    a: Node
    b: Node
    proxy: Proxy


@pytest.fixture
def deployment(transactional_db: None, tmp_path: Path) -> Iterator[Deployment]:
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    db = settings.DATABASES["default"]
    urls = {
        "database_url": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "redis_url": redis_server.url,
    }
    a = Node(tmp_path / "a", processes="web,worker,beat", **urls)
    b = Node(tmp_path / "b", processes="web,worker", **urls)
    proxy_port = free_port()
    # The pages of the app come from the proxy; each node's own address is one too.
    origins = ",".join(f"http://127.0.0.1:{p}" for p in (a.port, b.port, proxy_port))
    proxy = None
    try:
        for node in (a, b):  # one after the other: the first migrates, the second finds it done
            node.env["CSRF_TRUSTED_ORIGINS"] = origins
            node.start("run", node.ready, timeout=120)
        proxy = Proxy(tmp_path / "proxy", proxy_port, [f"127.0.0.1:{n.port}" for n in (a, b)])
        yield Deployment(a, b, proxy)
    finally:
        if proxy is not None:
            proxy.stop()
        for node in (a, b):
            node.close()
        redis_server.stop()
    wait_until(lambda: _other_sessions(db["NAME"]) == 0, 20, "the servers' sessions gone")
    for node in (a, b):
        for crash in CRASHES:
            assert crash not in node.log("run"), node.log("run")


def call(base: str, method: str, path: str, token: str = "", **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, base + path, headers=headers, timeout=30, **kw)


def log_in(base: str, email: str) -> str:
    login = call(base, "POST", "/api/auth/login/", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return login.json()["access"]


def socket(base: str, token: str) -> Live:
    return Live(
        connect(
            base.replace("http", "ws") + "/ws/",
            subprotocols=["bearer", token],
            additional_headers={"Origin": base},
            open_timeout=10,
        )
    )


OPENED = "connection open"  # what uvicorn logs for each socket it accepts


def socket_via(deployment: Deployment, token: str) -> tuple[Live, Node]:
    """A socket through the proxy, and the node it reached (Caddy's header_down does not
    touch a 101 answer: the node's own log line tells)."""
    nodes = (deployment.a, deployment.b)
    before = {node.port: node.log("run").count(OPENED) for node in nodes}
    live = socket(deployment.proxy.base, token)

    def reached() -> list[Node]:
        return [n for n in nodes if n.log("run").count(OPENED) > before[n.port]]

    wait_until(lambda: len(reached()) == 1, 10, "one node logging the socket")
    return live, reached()[0]


def wait_frame(live: Live, wanted: Callable[[dict], bool], timeout: float = 20) -> dict:
    """The first frame `wanted` accepts (others are skipped)."""
    while not wanted(frame := live.frame(timeout)):
        pass
    return frame


def completed(instance_id: int, source: str | None = None) -> Callable[[dict], bool]:
    def wanted(frame: dict) -> bool:
        data = frame["data"]
        return (
            frame["type"] == "instance.updated"
            and data["id"] == instance_id
            and data["status"] == Status.COMPLETED
            and source in (None, data["source"])
        )

    return wanted


def pending_instance(base: str, token: str, user: User, action: str) -> tuple[int, int]:
    """(habit id, instance id) of a habit due five minutes ago, created through `base`."""
    body = habit(action, minutes_ago(user, 5))
    created = call(base, "POST", "/api/habits/", token, json=body)
    assert created.status_code == 201, created.text
    today = call(base, "GET", "/api/instances/today/", token).json()
    [instance] = [i for i in today if i["habit_id"] == created.json()["id"]]
    return created.json()["id"], instance["id"]


def sign_up(base: str) -> tuple[User, str]:
    """Ann, in a zone where "five minutes ago" is still today."""
    email = "ann@example.com"
    zone = "UTC" if 1 <= datetime.now(UTC).hour <= 22 else "Asia/Tokyo"
    body = {"email": email, "password": PASSWORD, "timezone": zone}
    assert call(base, "POST", "/api/auth/register/", json=body).status_code == 201
    return User.objects.get(email=email), log_in(base, email)


def test_a_socket_on_one_node_hears_changes_made_through_the_other_a_worker_and_the_bot(
    deployment: Deployment,
) -> None:
    a, b = deployment.a, deployment.b
    user, token = sign_up(a.base)
    on_a = socket(a.base, token)

    # Through node B's web process.
    habit_id, instance_id = pending_instance(b.base, token, user, "stretch")
    done = call(b.base, "POST", f"/api/instances/{instance_id}/complete/", token)
    assert done.status_code == 200, done.text
    wait_frame(on_a, completed(instance_id, "web"))
    # Through a Celery worker: the completion's stats are computed and sent by one. The
    # habit's creation sent its own (done 0), which may still arrive after the completion's
    # instance frame: the completion's stats are the ones with done 1.
    wait_frame(
        on_a,
        lambda f: (
            f["type"] == "stats.updated"
            and f["data"]["habit_id"] == habit_id
            and f["data"]["stats"]["done"] == 1
        ),
    )
    assert "realtime.stats[" in a.log("run") + b.log("run")

    # Through the bot: "Done" pressed in a process of its own, on node B's settings.
    _, by_bot = pending_instance(b.base, token, user, "read")
    TelegramProfile.objects.create(
        user=user, telegram_id=TELEGRAM_ID, access_hash=3, username="ann"
    )
    press = subprocess.run(
        [sys.executable, "-m", "tests.system.bot_press", str(TELEGRAM_ID), str(by_bot)],
        cwd=ROOT, env=b.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert press.returncode == 0, press.stdout + press.stderr
    assert "Done: read" in press.stdout
    wait_frame(on_a, completed(by_bot, "telegram"))
    assert HabitInstance.objects.get(pk=by_bot).status == Status.COMPLETED
    on_a.close()


def test_logout_all_through_one_node_ends_the_sessions_on_the_other(
    deployment: Deployment,
) -> None:
    a, b = deployment.a, deployment.b
    _, token = sign_up(a.base)
    on_a, on_b = socket(a.base, token), socket(b.base, token)

    # Each of node B's workers holds the token's state in its near cache now.
    assert b.in_each_worker("/api/auth/me/", token) == [200, 200]

    assert call(a.base, "POST", "/api/auth/logout-all/", token).status_code == 204

    # At once, in each of B's workers: Redis told their near caches.
    assert b.in_each_worker("/api/auth/me/", token) == [401, 401]
    assert on_b.close_code() == CLOSE_UNAUTHORIZED
    assert on_a.close_code() == CLOSE_UNAUTHORIZED


def test_through_the_proxy_either_node_serves_and_losing_one_loses_nothing(
    deployment: Deployment,
) -> None:
    a, b, proxy = deployment.a, deployment.b, deployment.proxy
    node_a, node_b = f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"
    user, token = sign_up(proxy.base)
    answered = {call(proxy.base, "GET", "/api/auth/me/", token).headers["X-Upstream"]
                for _ in range(6)}  # fmt: skip
    assert answered == {node_a, node_b}  # round robin
    sockets = [socket_via(deployment, token) for _ in range(4)]
    assert {node.port for _, node in sockets} == {a.port, b.port}
    _, instance_id = pending_instance(proxy.base, token, user, "stretch")
    assert call(proxy.base, "POST", f"/api/instances/{instance_id}/complete/", token).ok
    for live, _ in sockets:  # wherever it was made, each socket hears it
        wait_frame(live, completed(instance_id))

    b.kill_web()  # node B is lost

    for live in [live for live, node in sockets if node is b]:
        assert live.close_code() != CLOSE_UNAUTHORIZED  # dropped, not logged out
    answered = {call(proxy.base, "GET", "/api/auth/me/", token).headers["X-Upstream"]
                for _ in range(6)}  # fmt: skip
    assert answered == {node_a}
    again, reached = socket_via(deployment, token)  # the dashboard reconnects, via the proxy
    assert reached is a
    snapshot = {i["id"]: i["status"] for i in again.snapshot["data"]}
    assert snapshot[instance_id] == Status.COMPLETED
    _, later = pending_instance(proxy.base, token, user, "read")
    assert call(proxy.base, "POST", f"/api/instances/{later}/complete/", token).ok
    for live in [again, *(live for live, node in sockets if node is a)]:
        wait_frame(live, completed(later))
        live.close()
