# The two commands of the README. Both install into .venv first (only when the lock changed).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install lint lock bench chromium wrk caddy

# Development installs requirements-dev.lock (runtime + test + bench extras); the Dockerfile
# installs requirements.lock (runtime only).
$(STAMP): requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m config.run

test: install chromium caddy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The edit loop: everything but the whole-system, browser and fuzzing tests (make test runs all).
test-fast: install
	$(BIN)/python -m pytest -m "not system and not e2e and not fuzz" $(PYTEST_ARGS)

# The end-to-end tests drive Debian's Chromium headless (Playwright cannot fetch its own here).
chromium:
	@command -v chromium >/dev/null || { apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

# The performance suite: one table, also written to docs/PERFORMANCE.md (about 30 minutes).
# Its REST load runs wrk, from Debian's packages.
bench: install wrk
	$(BIN)/python -m bench $(BENCH_ARGS)

wrk:
	@command -v wrk >/dev/null || { apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk; }

# tests/config/test_compose.py checks deploy/Caddyfile with Caddy itself (Debian's package).
caddy:
	@command -v caddy >/dev/null || { apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends caddy; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-pin both locks after editing pyproject.toml (existing pins are kept where they still fit).
# The dev lock is constrained by the runtime lock, so the packages they share pin one version.
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra test --extra bench --python-version 3.11 \
		-c requirements.lock -o requirements-dev.lock
