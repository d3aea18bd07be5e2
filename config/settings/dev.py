"""Local development: the defaults `make run` uses."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)
# A receiver on this machine (`python -m http.server`, a tunnel) may take the webhooks.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", True)
