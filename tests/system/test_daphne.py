"""`WEB_SERVER=daphne`: the run command's web side as two Daphne processes sharing one port
(config/web_pool.py), serving the same HTTP bridge and sockets as uvicorn does.

Which process served a connection is read from the kernel, not from the app: the accepted
TCP connection (found in /proc/net/tcp by the client's port) is an open file of exactly one
Daphne process, the one that accepted it. Each process listens on a socket of its own and
the kernel hands a new connection to one of them by a hash, so new connections are opened
until each process has taken one.
"""

import http.client
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from django.conf import settings

from config.web_pool import STARTUP_SECONDS
from tests.system.conftest import CRASHES, Live, _other_sessions
from tests.system.harness import CONNECTION_TRIES, PrivateRedis, accepted, wait_until
from tests.system.test_journey import MadeRun
from tests.system.test_nodes import (
    _argv,
    _descendants,
    call,
    completed,
    pending_instance,
    sign_up,
    socket,
    wait_frame,
)

pytestmark = pytest.mark.slow

T = TypeVar("T")


class DaphneRun(MadeRun):
    """`python -m config.run` serving the web side only, with WEB_SERVER=daphne."""

    def __init__(self, workdir: Path, **urls: str) -> None:
        super().__init__(workdir, **urls)
        self.env.update(RUN_PROCESSES="web", WEB_SERVER="daphne", WEB_WORKERS="2")

    def ready(self) -> bool:
        return call_ok(self.base, "/healthz")

    def daphnes(self) -> list[int]:
        """The Daphne processes the pool started (not the pool itself)."""
        found = _descendants(self.processes["run"].pid)
        return [pid for pid in found if _argv(pid).split(b"\0")[1:3] == [b"-m", b"daphne"]]


def call_ok(base: str, path: str) -> bool:
    try:
        return call(base, "GET", path).status_code == 200
    except OSError:
        return False


@pytest.fixture
def daphne_run(transactional_db: None, tmp_path: Path) -> Iterator[DaphneRun]:
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    db = settings.DATABASES["default"]
    run = DaphneRun(
        tmp_path,
        database_url=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        redis_url=redis_server.url,
    )
    try:
        run.start("run", run.ready, timeout=120)
        yield run
    finally:
        run.close()
        redis_server.stop()
    wait_until(lambda: _other_sessions(db["NAME"]) == 0, 20, "the servers' sessions gone")
    for crash in CRASHES:
        assert crash not in run.log("run"), run.log("run")


def _get_on_a_new_connection(
    run: DaphneRun, path: str, token: str = "", timeout: float = 30
) -> tuple[object, int]:
    """GET `path` on a connection of its own; the JSON answer and the process that accepted
    the connection (still open: HTTP/1.1 keeps it alive)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connection = http.client.HTTPConnection("127.0.0.1", run.port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body
        client_port = connection.sock.getsockname()[1]
        return json.loads(body), accepted(run.daphnes(), run.port, client_port)
    finally:
        connection.close()


def _on_each(
    run: DaphneRun, open_one: Callable[[], tuple[T, int]], spare: Callable[[T], object] = id
) -> dict[int, T]:
    """What `open_one` gave on each Daphne process, by the process that accepted it: new
    connections until both have taken one (`spare` ends the extra ones)."""
    found: dict[int, T] = {}
    for _ in range(CONNECTION_TRIES):
        value, pid = open_one()
        if pid in found:
            spare(value)
        else:
            found[pid] = value
        if len(found) == 2:
            return found
    raise AssertionError(f"one Daphne process took all of {CONNECTION_TRIES} connections")


def _answering(run: DaphneRun, path: str, token: str = "", timeout: float = 30) -> set[int]:
    """The processes that accepted GET `path` on a new connection each, until both have."""
    return set(_on_each(run, lambda: _get_on_a_new_connection(run, path, token, timeout)))


def _both_answer(run: DaphneRun, daphnes: set[int]) -> bool:
    """Each of `daphnes` accepts and answers `/healthz` (False while one is still starting)."""
    try:
        return _answering(run, "/healthz", timeout=3) == daphnes
    except OSError:  # the one left running had not begun to accept within the timeout
        return False


def _socket_on_a_new_connection(run: DaphneRun, token: str) -> tuple[Live, int]:
    """A live socket (hello and snapshot read) and the process that accepted it."""
    live = socket(run.base, token)
    client_port = live.connection.socket.getsockname()[1]
    return live, accepted(run.daphnes(), run.port, client_port)


def test_two_daphne_processes_share_the_port_and_both_serve_the_api_and_sockets(
    daphne_run: DaphneRun,
) -> None:
    run = daphne_run
    daphnes = run.daphnes()
    assert len(set(daphnes)) == 2, run.log("run")
    user, token = sign_up(run.base)  # register and log in over HTTP
    _, instance_id = pending_instance(run.base, token, user, "stretch")

    today, _ = _get_on_a_new_connection(run, "/api/instances/today/", token)
    assert [i["id"] for i in today] == [instance_id]
    assert _answering(run, "/api/instances/today/", token) == set(daphnes)

    sockets = _on_each(run, lambda: _socket_on_a_new_connection(run, token), Live.close)
    assert set(sockets) == set(daphnes)
    for live in sockets.values():
        assert live.hello["type"] == "hello"
        assert live.snapshot["type"] == "today.snapshot"
        assert [i["id"] for i in live.snapshot["data"]] == [instance_id]

    # Completed over HTTP in whichever process accepts it: every socket, in either process,
    # hears it (the channel layer carries it across).
    done = call(run.base, "POST", f"/api/instances/{instance_id}/complete/", token)
    assert done.status_code == 200, done.text
    for live in sockets.values():
        wait_frame(live, completed(instance_id, "web"))
        live.close()

    run.stop("run")  # SIGTERM, as Ctrl-C or a supervisor: the pool and both Daphnes end
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in daphnes), 20,
               "the Daphne processes gone")  # fmt: skip
    assert "Listening on TCP address" in run.log("run")


def test_a_daphne_process_that_dies_is_replaced_and_the_new_one_serves(
    daphne_run: DaphneRun,
) -> None:
    run = daphne_run
    lost, kept = run.daphnes()
    # One dying in its first seconds is a broken start, which stops the pool instead.
    time.sleep(STARTUP_SECONDS)

    os.kill(lost, signal.SIGKILL)  # a crash, the OOM killer

    wait_until(lambda: len(run.daphnes()) == 2 and lost not in run.daphnes(), 30,
               "another Daphne process started")  # fmt: skip
    [new] = set(run.daphnes()) - {kept}
    wait_until(lambda: _both_answer(run, {kept, new}), 30, "both serving")
    assert f"daphne (pid {lost}) exited with -9: another starts." in run.log("run")
