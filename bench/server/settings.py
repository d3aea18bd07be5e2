"""Production settings (persistent DB connections, no debug) plus the bench's baselines."""

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS, JWT_LEEWAY_SECONDS, JWT_SIGNING_KEY

DEBUG = False
ROOT_URLCONF = "bench.server.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework"]
# The bench logs in a few users; hashing strength is not what it measures.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Request logs would cost more than the requests they log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
# simplejwt reading the project's own access tokens: same key and algorithm, our claim names.
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "LEEWAY": JWT_LEEWAY_SECONDS,
    "USER_ID_CLAIM": "sub",
    "TOKEN_TYPE_CLAIM": "type",
    "JTI_CLAIM": "jti",
    "AUTH_HEADER_TYPES": ("Bearer",),
}
