"""Failed-login counters in Redis, per e-mail and per client address.

An attempt is counted *before* the password is checked (one atomic INCR per key), so a
burst of parallel guesses cannot all slip through between a check and an increment; a
successful login gives its attempt back. A window starts at the first attempt.
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


def login_attempt_begin(*, email: str, ip: str) -> None:
    """Count this attempt; 429 if it goes past either limit (a right password does not help)."""
    keys = _keys(email, ip)
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    try:
        with get_redis().pipeline() as pipe:
            for key in (keys.email, keys.ip):
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
            pipe.ttl(keys.email)
            by_email, _, by_ip, _, ttl = pipe.execute()
    except redis.RedisError:
        logger.warning("login throttle unavailable: Redis does not answer")
        return
    if by_email > settings.LOGIN_THROTTLE_PER_EMAIL or by_ip > settings.LOGIN_THROTTLE_PER_IP:
        raise TooManyRequests("Too many failed logins; try again later.", retry_after=max(ttl, 1))


def login_attempt_succeeded(*, email: str, ip: str) -> None:
    """A right password clears the e-mail's count and gives the address its attempt back."""
    keys = _keys(email, ip)
    try:
        with get_redis().pipeline() as pipe:
            pipe.delete(keys.email)
            pipe.decr(keys.ip)
            pipe.execute()
    except redis.RedisError:
        logger.warning("login throttle unavailable: Redis does not answer")
