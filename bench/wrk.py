"""wrk (Debian's package) against a local server: requests/s and latency percentiles."""

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("load.lua")
THREADS = 2
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
# wrk stops at its deadline with up to one request a connection still queued in the server
# (32 DRF-style requests are about 0.2 s of work here): without a pause the next run, often
# another endpoint, would start behind them and count them in its p99.
SETTLE_SECONDS = 1.0
LATENCY = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Load:
    requests: int
    per_second: float
    percentiles: dict[str, float]  # "50" -> seconds
    bad: int  # non-2xx answers and socket errors

    @property
    def p50(self) -> float:
        return self.percentiles["50"]

    @property
    def p99(self) -> float:
        return self.percentiles["99"]


def require() -> str:
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is missing: `make bench` installs it (apt-get install wrk)")
    return found


def _parse(output: str) -> Load:
    total = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not total or not rate:
        raise RuntimeError(f"unreadable wrk output: {output[-300:]}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    bad = int(non_2xx[1]) if non_2xx else 0
    bad += sum(int(n) for n in errors.groups()) if errors else 0
    percentiles = {p: float(v) * UNITS[u] for p, v, u in LATENCY.findall(output)}
    return Load(int(total[1]), float(rate[1]), percentiles, bad)


def run(
    url: str,
    *,
    token: str,
    seconds: float,
    connections: int,
    method: str = "GET",
    ids: range | None = None,
    body: str = "",
) -> Load:
    """One bounded wrk run (loopback only); `_ID_` in `url` cycles through `ids`, `body`
    (JSON) goes with every request. Returns once the server has had SETTLE_SECONDS to
    finish what was still queued."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("load only goes to this machine's loopback")
    threads = min(THREADS, connections)  # wrk refuses more threads than connections
    env = {
        **os.environ,
        "BENCH_TOKEN": token,
        "BENCH_METHOD": method,
        "BENCH_FIRST_ID": str(ids.start if ids else 0),
        "BENCH_ID_COUNT": str(len(ids) if ids else 0),
        "BENCH_THREADS": str(threads),
        "BENCH_BODY": body,
    }
    command = [require(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    command += ["--timeout", "10s", "-s", str(SCRIPT), url]
    result = subprocess.run(  # noqa: S603 (the argv is ours, not input)
        command, env=env, capture_output=True, text=True, timeout=seconds + 30, check=True
    )
    time.sleep(SETTLE_SECONDS)
    return _parse(result.stdout)
