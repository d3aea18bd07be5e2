"""Failed-login counters in Redis, per e-mail and per client address.

Counting stays atomic across web processes (INCR); a window starts at the first failure.
If Redis does not answer, logins are let through and the outage is logged: locking every
user out because the cache is down would be the worse failure.
"""

import hashlib
import logging
from dataclasses import dataclass

import redis
from django.conf import settings

from config.errors import TooManyRequests
from config.redis import get_redis

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginKeys:
    email: str
    ip: str


def _keys(email: str, ip: str) -> LoginKeys:
    # Hash the e-mail so the Redis key space holds no addresses.
    digest = hashlib.sha256(email.encode()).hexdigest()
    return LoginKeys(email=f"aht:login-fail:email:{digest}", ip=f"aht:login-fail:ip:{ip}")


def ensure_login_allowed(*, email: str, ip: str) -> None:
    """Raise 429 while either counter is at its limit; a right password does not help then."""
    keys = _keys(email, ip)
    try:
        client = get_redis()
        by_email, by_ip = client.mget(keys.email, keys.ip)
        ttl = max(client.ttl(keys.email), client.ttl(keys.ip), 1)
    except redis.RedisError:
        logger.warning("login throttle unavailable: Redis does not answer")
        return
    if (
        int(by_email or 0) >= settings.LOGIN_THROTTLE_PER_EMAIL
        or int(by_ip or 0) >= settings.LOGIN_THROTTLE_PER_IP
    ):
        raise TooManyRequests("Too many failed logins; try again later.", retry_after=ttl)


def record_login_failure(*, email: str, ip: str) -> None:
    keys = _keys(email, ip)
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    try:
        with get_redis().pipeline() as pipe:
            for key in (keys.email, keys.ip):
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
            pipe.execute()
    except redis.RedisError:
        logger.warning("login throttle unavailable: Redis does not answer")


def clear_login_failures(*, email: str) -> None:
    try:
        get_redis().delete(_keys(email, "").email)
    except redis.RedisError:
        logger.warning("login throttle unavailable: Redis does not answer")
