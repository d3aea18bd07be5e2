"""The web server raises its open-file limit, so its workers can hold thousands of sockets."""

import os
import resource
import signal
import time
from pathlib import Path

from tests.system.harness import children, free_port, start_web

# The soft limit the server starts with: below whatever hard limit the host gives, so there is
# always something to raise (the test runs everywhere).
LOW_SOFT_LIMIT = min(256, resource.getrlimit(resource.RLIMIT_NOFILE)[1] // 2)


def _open_files_limit(pid: int) -> tuple[int, int]:
    """(soft, hard) RLIMIT_NOFILE of a running process, from /proc."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError(f"no open-file limit for {pid}")


def _started_low() -> None:
    """In the child before exec: the soft limit a host's default might give."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW_SOFT_LIMIT, hard))


def test_web_workers_run_with_the_hard_open_file_limit_though_started_with_a_low_soft_one():
    # Two workers: the pool (config/web_pool.py) and a process each.
    process = start_web(free_port(), preexec_fn=_started_low)
    try:
        deadline = time.monotonic() + 60
        while len(children(process.pid)) < 2 and time.monotonic() < deadline:
            assert process.poll() is None, "the web server exited"
            time.sleep(0.2)
        limits = [_open_files_limit(pid) for pid in [process.pid, *children(process.pid)]]
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    assert len(limits) >= 3  # the supervisor and its two workers (and its helpers)
    assert all(soft == hard > LOW_SOFT_LIMIT for soft, hard in limits)
