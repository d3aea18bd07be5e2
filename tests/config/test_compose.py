"""compose.yaml's edge (E1): only the proxy is reachable from outside, and it is a real one.

web trusts one proxy's X-Forwarded-For and X-Forwarded-Proto (TRUSTED_PROXY_COUNT=1): if web
published its own port, anyone reaching it directly would write those headers themselves.
No Docker engine runs here, so the file is read as compose reads it; Caddy's own parser
checks the proxy's configuration when `caddy` is installed (Debian's `caddy` package).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = "deploy/Caddyfile"
PROXY_IMAGE = re.compile(r"^caddy:2(\.[\d.]+)?(-alpine)?$")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def _proxy(services: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    found = [(n, s) for n, s in services.items() if PROXY_IMAGE.match(str(s.get("image", "")))]
    assert len(found) == 1, "compose.yaml needs exactly one proxy service from the caddy:2 image"
    return found[0]


def test_only_the_proxy_publishes_ports(services):
    name, proxy = _proxy(services)

    published = {n for n, s in services.items() if s.get("ports")}

    assert published == {name}
    assert {str(p).split(":")[-1].split("/")[0] for p in proxy["ports"]} == {"80", "443"}


def test_web_listens_on_the_compose_network_only_and_trusts_one_proxy(services):
    web = services["web"]

    assert "ports" not in web
    assert [str(p) for p in web["expose"]] == [str(web["environment"]["PORT"])]
    assert str(web["environment"]["TRUSTED_PROXY_COUNT"]) == "1"
    assert "TRUSTED_PROXY_COUNT" not in {
        k for n, s in services.items() if n != "web" for k in (s.get("environment") or {})
    }, "only web sits behind the proxy"


def test_the_proxy_mounts_its_config_from_the_repository_and_waits_for_web(services):
    _, proxy = _proxy(services)

    mounts = {v.split(":")[0]: v.split(":")[1] for v in proxy["volumes"] if v.startswith("./")}

    assert mounts == {f"./{CADDYFILE}": "/etc/caddy/Caddyfile"}
    assert (ROOT / CADDYFILE).is_file()
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    assert "SITE_ADDRESS" in proxy["environment"]


def _directives(caddyfile: str) -> list[str]:
    """The Caddyfile's lines without comments or blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in caddyfile.splitlines())
    return [line for line in lines if line]


def test_the_caddyfile_serves_the_site_address_and_proxies_everything_to_web(services):
    lines = _directives((ROOT / CADDYFILE).read_text())
    web_port = services["web"]["environment"]["PORT"]

    # The site address comes from the environment, so a real domain gets its certificate.
    assert lines[0] == "{$SITE_ADDRESS:localhost} {"
    # One unconditional reverse_proxy: every path (HTTP and the /ws/ upgrade) goes to web,
    # to each of its replicas as compose's DNS lists them.
    assert [line for line in lines if line.startswith("reverse_proxy")] == ["reverse_proxy {"]
    assert f"dynamic a web {web_port} {{" in lines
    assert lines[-1] == "}"


caddy = shutil.which("caddy")


def _caddy(*args: str, site: str) -> subprocess.CompletedProcess[str]:
    assert caddy is not None, "caddy is not installed: make test installs it (apt caddy)"
    env = {**os.environ, "SITE_ADDRESS": site, "HOME": str(ROOT / "test-artifacts" / "caddy")}
    env["XDG_DATA_HOME"] = env["XDG_CONFIG_HOME"] = env["HOME"]
    return subprocess.run(
        [caddy, *args, "--config", str(ROOT / CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


def test_caddy_accepts_the_caddyfile():
    result = _caddy("validate", site="habits.example.com")

    assert result.returncode == 0, result.stderr


def test_caddy_reads_a_real_domain_from_site_address_and_proxies_it_to_every_web_replica():
    result = _caddy("adapt", site="habits.example.com")
    assert result.returncode == 0, result.stderr
    server = json.loads(result.stdout)["apps"]["http"]["servers"]["srv0"]

    route = server["routes"][0]
    handlers = [h for r in route["handle"][0]["routes"] for h in r["handle"]]

    assert server["listen"] == [":443"]  # TLS; Caddy redirects plain HTTP to it
    assert route["match"] == [{"host": ["habits.example.com"]}]
    [proxy] = handlers
    assert proxy["handler"] == "reverse_proxy"
    assert proxy["dynamic_upstreams"] == {
        "source": "a",
        "name": "web",
        "port": "8000",
        "refresh": 10_000_000_000,
    }
    # A replica that is gone is skipped for another for up to 5 s.
    assert proxy["load_balancing"]["try_duration"] == 5_000_000_000


def test_web_and_workers_run_as_replicas_beat_once(services):
    for name in ("web", "worker"):
        replicas = str(services[name]["deploy"]["replicas"])
        default = re.fullmatch(r"\$\{[A-Z_]+:-(\d+)\}", replicas)
        assert default, (name, replicas)
        assert int(default.group(1)) >= 2, (name, replicas)
    assert "deploy" not in services["beat"]  # one beat: two would send every task twice


def test_the_sharded_layer_is_a_profile_and_the_layer_defaults_to_the_one_redis(services):
    shards = {n: s for n, s in services.items() if n.startswith("redis-ws-")}
    layer = services["web"]["environment"]["CHANNEL_REDIS_URLS"]

    assert sorted(shards) == ["redis-ws-1", "redis-ws-2"]
    assert all(s["profiles"] == ["sharded-layer"] and "ports" not in s for s in shards.values())
    assert layer == "${CHANNEL_REDIS_URLS:-redis://redis:6379/0}"
    assert services["worker"]["environment"]["CHANNEL_REDIS_URLS"] == layer
