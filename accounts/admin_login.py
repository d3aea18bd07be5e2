"""The admin's login page: a door to the same passwords as the API's login, so it counts
guesses on the same counters (accounts/throttle.py) and refuses the same way."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from accounts import throttle
from accounts.models import normalize_email
from core.errors import TooManyRequests
from core.requests import client_ip


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """Counts each attempt before the password is checked, as the API login does."""

    retry_after: int | None = None  # set while a limit holds; the view answers 429 then

    def clean(self) -> dict[str, Any]:
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if email is None or not password:
            return super().clean()  # nothing is checked, so nothing is counted
        email = normalize_email(email)
        ip = client_ip(self.request) if self.request is not None else "unknown"
        try:
            throttle.login_attempt_begin(email=email, ip=ip)
        except TooManyRequests as exc:
            self.retry_after = exc.retry_after
            raise ValidationError(exc.message, code="throttled") from exc
        try:
            return super().clean()
        finally:
            # The right password (staff or not: the API would let them in) is no guess.
            if self.user_cache is not None:
                throttle.login_attempt_succeeded(email=email, ip=ip)


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's own login view; while a login limit holds, its page answers 429 with
    Retry-After, as the API does, instead of a 200 carrying the message."""
    response = admin.site.login(request)
    form = (getattr(response, "context_data", None) or {}).get("form")
    retry_after = getattr(form, "retry_after", None)
    if retry_after:
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
    return response
