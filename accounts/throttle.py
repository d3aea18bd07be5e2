"""The limits on every door that checks a secret: logins (the API's and the admin's), the
current password at a password change, and registrations (each costs a password hash).

Login counts guesses on three fixed-window counters (core/counters.py):
- per (e-mail, client address) pair, `LOGIN_THROTTLE_PER_EMAIL`: one address guessing one
  account's password;
- per client address, `LOGIN_THROTTLE_PER_IP`: one address trying many accounts;
- per e-mail from every address, `LOGIN_THROTTLE_PER_EMAIL_TOTAL`, much higher: guessing one
  account from many addresses.
The pair, not the e-mail alone, carries the low limit so that a stranger's wrong passwords
cannot lock the owner out from the owner's own address (docs/DECISIONS.md, "Login throttle").
An attempt is counted *before* the password is checked, so parallel guesses cannot all slip
through between a check and an increment; a right password gives its attempt back.
"""

import hashlib

from django.conf import settings

from core import counters
from core.errors import TooManyRequests
from core.requests import client_network

LOGIN = "login throttle"
TOO_MANY_LOGINS = "Too many failed logins; try again later."


def _email_digest(email: str) -> str:
    # Hashed so the Redis key space holds no addresses.
    return hashlib.sha256(email.encode()).hexdigest()


def _login_limits(email: str, ip: str) -> tuple[counters.Limit, counters.Limit, counters.Limit]:
    """The pair, the address and the e-mail counters, in that order."""
    digest, network = _email_digest(email), client_network(ip)
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS

    def limit(*parts: str, at_most: int) -> counters.Limit:
        return counters.Limit(counters.counter_key("login-fail", *parts), at_most, window)

    return (
        limit("pair", digest, network, at_most=settings.LOGIN_THROTTLE_PER_EMAIL),
        limit("ip", network, at_most=settings.LOGIN_THROTTLE_PER_IP),
        limit("email", digest, at_most=settings.LOGIN_THROTTLE_PER_EMAIL_TOTAL),
    )


def login_attempt_begin(*, email: str, ip: str) -> None:
    """Count this attempt; 429 if any limit is reached (a right password does not help)."""
    wait = counters.take(*_login_limits(email, ip), what=LOGIN)
    if wait:
        raise TooManyRequests(TOO_MANY_LOGINS, retry_after=wait)


def login_attempt_succeeded(*, email: str, ip: str) -> None:
    """A right password clears its pair's count and gives the other two their attempt back.

    The e-mail's total is not cleared: the owner logging in must not hand a distributed
    guesser a fresh allowance.
    """
    pair, by_ip, by_email = _login_limits(email, ip)
    counters.clear(pair.key, what=LOGIN)
    counters.give_back(by_ip.key, by_email.key, what=LOGIN)


PASSWORD_CHANGE = "password change throttle"
TOO_MANY_WRONG_PASSWORDS = "Too many wrong current passwords; try again later."


def _password_limit(user_id: int) -> counters.Limit:
    return counters.Limit(
        counters.counter_key("password-fail", "user", str(user_id)),
        settings.PASSWORD_CHANGE_THROTTLE_PER_USER,
        settings.LOGIN_THROTTLE_WINDOW_SECONDS,
    )


def password_check_begin(*, user_id: int) -> None:
    """Count a check of the current password (a stolen access token must not guess it
    without limit); 429 once the user's limit is reached, even for the right password."""
    wait = counters.take(_password_limit(user_id), what=PASSWORD_CHANGE)
    if wait:
        raise TooManyRequests(TOO_MANY_WRONG_PASSWORDS, retry_after=wait)


def password_check_succeeded(*, user_id: int) -> None:
    counters.give_back(_password_limit(user_id).key, what=PASSWORD_CHANGE)


def register_attempt(*, ip: str) -> None:
    """Count a registration from this address; 429 past the limit. Every call counts: each
    costs a password hash, whatever its outcome."""
    limit = counters.Limit(
        counters.counter_key("register", "ip", client_network(ip)),
        settings.REGISTER_THROTTLE_PER_IP,
        settings.REGISTER_THROTTLE_WINDOW_SECONDS,
    )
    wait = counters.take(limit, what="register throttle")
    if wait:
        raise TooManyRequests("Too many registrations; try again later.", retry_after=wait)
