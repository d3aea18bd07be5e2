import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"TELEGRAM_API_ID": "12345", "TELEGRAM_API_HASH": "abc"},
        {
            "TELEGRAM_API_ID": "not-a-number",
            "TELEGRAM_API_HASH": "abc",
            "TELEGRAM_BOT_TOKEN": "1:x",
        },
    ],
    ids=["none", "no-token", "bad-api-id"],
)
def test_runbot_without_credentials_fails_with_one_line_and_ex_config(env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "runbot"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        check=False,
    )

    assert result.returncode == os.EX_CONFIG == 78
    assert result.stderr.strip().splitlines() == [
        "Telegram bot not started: set TELEGRAM_API_ID (a number), TELEGRAM_API_HASH and "
        "TELEGRAM_BOT_TOKEN (see the README)."
    ]


def test_the_run_command_adds_the_bot_only_with_credentials(settings):
    from config.run import processes

    settings.TELEGRAM_API_ID, settings.TELEGRAM_API_HASH, settings.TELEGRAM_BOT_TOKEN = "", "", ""
    assert "bot" not in processes("127.0.0.1", "8000")
    settings.TELEGRAM_API_ID, settings.TELEGRAM_API_HASH, settings.TELEGRAM_BOT_TOKEN = (
        "1",
        "h",
        "t",
    )
    assert processes("127.0.0.1", "8000")["bot"][-1] == "runbot"
    # Set but unusable (the bot would exit 78 and take the rest of `make run` with it).
    settings.TELEGRAM_API_ID = "not-a-number"
    assert "bot" not in processes("127.0.0.1", "8000")
