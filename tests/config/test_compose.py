"""compose.yaml's edge (E1): only the proxy is reachable from outside, and it is a real one.

web trusts one proxy's X-Forwarded-For and X-Forwarded-Proto (TRUSTED_PROXY_COUNT=1): if web
published its own port, anyone reaching it directly would write those headers themselves.
No Docker engine runs here, so the file is read as compose reads it; Caddy's own parser
checks the proxy's configuration when `caddy` is installed (Debian's `caddy` package).
.ci/run also has `docker compose config` check it where Docker is installed; here the file,
interpolated as compose does, is checked against the Compose Specification's JSON schema
(compose-spec.json beside this file, its source and commit in compose-spec.NOTICE).

NOTICE: compose-spec.json is from The Compose Specification, Copyright 2020 The Compose
Specification Authors, licensed under the Apache License 2.0 (compose-spec.LICENSE).

Every service built from the app's image runs the command the tests run: `make run`'s
(config/run.py), which the system tests start process by process.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from config.run import STARTUP_COMMANDS, processes
from config.serving import web_command

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


# --- compose.yaml as compose reads it: interpolated, then checked against the specification.

SCHEMA = Path(__file__).with_name("compose-spec.json")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SUBSTITUTION = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", re.DOTALL)
# Compose turns these fields' interpolated strings back into numbers (compose-go casts these
# and more; only these may hold a variable in our file).
INTEGER_FIELDS = {("deploy", "replicas"), ("healthcheck", "retries")}


class MissingVariable(Exception):
    """A `${VAR:?message}` (or `${VAR?message}`) whose variable is not set."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """`text` with `$$`, `$VAR` and `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
    `${VAR:?error}`, `${VAR?error}`, `${VAR:+other}`, `${VAR+other}` replaced as compose
    replaces them, nested ones included (a default may hold another `${...}`)."""
    out, i = [], 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
        elif text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _closing_brace(text, i + 2)
            out.append(_substitute(text[i + 2 : end], env))
            i = end + 1
        elif name := NAME.match(text, i + 1):
            out.append(env.get(name.group(), ""))
            i = name.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth, i = 1, start
    while i < len(text):
        if text.startswith("${", i):
            depth, i = depth + 1, i + 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unclosed ${{ in {text!r}")


def _substitute(body: str, env: Mapping[str, str]) -> str:
    found = SUBSTITUTION.fullmatch(body)
    if found is None:
        raise ValueError(f"compose rejects ${{{body}}}")
    name, operator, argument = found.groups()
    value = env.get(name)
    if operator is None:
        return value or ""
    # With the colon an empty value counts as unset.
    unset = value is None or (operator.startswith(":") and value == "")
    if operator.endswith("-"):
        return interpolate(argument, env) if unset else str(value)
    if operator.endswith("?"):
        if unset:
            raise MissingVariable(f"{name}: {interpolate(argument, env)}")
        return str(value)
    return "" if unset else interpolate(argument, env)  # `+`: the other value when set


def _interpolated(node: Any, env: Mapping[str, str], path: tuple[str, ...] = ()) -> Any:
    """compose.yaml's values (not its keys) interpolated, the integer fields cast back."""
    if isinstance(node, dict):
        return {k: _interpolated(v, env, (*path, str(k))) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolated(v, env, path) for v in node]
    if not isinstance(node, str):
        return node
    value = interpolate(node, env)
    return int(value) if path[-2:] in INTEGER_FIELDS and path[0] == "services" else value


def _required_variables(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?", text))


def _loaded(env: Mapping[str, str]) -> dict[str, Any]:
    return _interpolated(yaml.safe_load((ROOT / "compose.yaml").read_text()), env)


# The variables an operator must set (`${VAR:?}`), with values of the shape they ask for.
PLACEHOLDERS = {
    "POSTGRES_PASSWORD": "placeholder-password",
    "SECRET_KEY": "s" * 50,
    "JWT_SIGNING_KEY": "j" * 50,
}


def test_the_variables_an_operator_must_set_are_the_secrets():
    required = _required_variables((ROOT / "compose.yaml").read_text())

    assert required == set(PLACEHOLDERS)
    with pytest.raises(MissingVariable, match="SECRET_KEY: set SECRET_KEY"):
        _loaded({k: v for k, v in PLACEHOLDERS.items() if k != "SECRET_KEY"})


def test_interpolation_reads_defaults_nested_defaults_and_the_environment():
    env = {"SITE_ADDRESS": "habits.example.com", "EMPTY": ""}

    assert interpolate("${ALLOWED_HOSTS:-${SITE_ADDRESS:-localhost}}", {}) == "localhost"
    assert interpolate("${ALLOWED_HOSTS:-${SITE_ADDRESS:-localhost}}", env) == env["SITE_ADDRESS"]
    assert interpolate("https://${SITE_ADDRESS:-localhost}", env) == "https://habits.example.com"
    assert interpolate("${EMPTY:-x}|${EMPTY-x}|${EMPTY:+y}|${EMPTY+y}|$$HOME", env) == "x|||y|$HOME"


@pytest.mark.parametrize(
    "env",
    [
        {},  # every default
        {
            "SITE_ADDRESS": "habits.example.com",
            "CHANNEL_REDIS_URLS": "redis://redis-ws-1:6379/0,redis://redis-ws-2:6379/0",
            "CELERY_BROKER_URL": "amqp://habits:secret@rabbitmq:5672//",
            "RABBITMQ_PASSWORD": "secret",
            "WEB_REPLICAS": "4",
            "WORKER_REPLICAS": "3",
            "CELERY_CONCURRENCY": "4",
        },
    ],
    ids=["defaults", "every-profile-configured"],
)
def test_compose_yaml_follows_the_compose_specification(env):
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    loaded = _loaded({**PLACEHOLDERS, **env})

    errors = [
        f"{'.'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(loaded)
    ]

    assert errors == []
    assert loaded["services"]["web"]["deploy"]["replicas"] == int(env.get("WEB_REPLICAS", 2))


def test_the_schema_refuses_what_compose_refuses():
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    loaded = _loaded(PLACEHOLDERS)
    loaded["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_finished"
    loaded["services"]["worker"]["replica"] = 2

    paths = {tuple(e.instance_path) for e in validator.iter_errors(loaded)}

    assert paths == {("services", "web", "depends_on"), ("services", "worker")}


# --- Each app service's command is the one `make run` (config/run.py) and the tests run.

APP_SERVICES = {"migrate", "web", "worker", "beat", "bot"}


def _commands(env: Mapping[str, str]) -> dict[str, list[str]]:
    services = _loaded({**PLACEHOLDERS, **env})["services"]
    built = {name for name, service in services.items() if "build" in service}
    assert built == APP_SERVICES, "a new service of the app's image needs its comparison here"
    return {name: services[name]["command"] for name in built}


def test_every_app_service_but_migrate_waits_for_it_to_finish():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]

    for name in APP_SERVICES - {"migrate"}:
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name


@pytest.mark.parametrize("concurrency", [None, "5"])
def test_workers_beat_and_the_bot_run_what_make_run_runs(settings, monkeypatch, concurrency):
    # CELERY_CONCURRENCY reaches both from the same place: the shell (compose also reads .env).
    env = {} if concurrency is None else {"CELERY_CONCURRENCY": concurrency}
    monkeypatch.delenv("CELERY_CONCURRENCY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings.TELEGRAM_API_ID, settings.TELEGRAM_API_HASH, settings.TELEGRAM_BOT_TOKEN = (
        "1",
        "h",
        "t",
    )
    compose, run = _commands(env), processes("127.0.0.1", "8000")

    for name in ("worker", "beat", "bot"):
        # The image's interpreter is `python`; make run's is the one running it.
        assert compose[name][0] == "python", name
        assert compose[name][1:] == run[name][1:], name
    assert run["worker"][-2:] == ["--concurrency", concurrency or "2"]


def test_web_runs_config_serving_which_is_make_runs_web_command():
    compose, run = _commands({}), processes("0.0.0.0", "8000")

    # `python -m config.serving` execs web_command(HOST, PORT) (config/serving.py, main);
    # make run supervises the same argv, and the e2e tests and the bench start web_command.
    assert compose["web"] == ["python", "-m", "config.serving"]
    assert run["web"] == web_command("0.0.0.0", "8000")


def test_migrate_runs_what_make_run_runs_before_starting_anything():
    shell, flag, script = _commands({})["migrate"]

    steps = [shlex.split(step) for step in script.split(" && ")]

    assert (shell, flag) == ("sh", "-c")
    # Each step must succeed for the next and for migrate to count as completed.
    assert [step[:2] for step in steps] == [["python", "manage.py"]] * len(steps)
    assert [tuple(step[2:]) for step in steps] == list(STARTUP_COMMANDS)
