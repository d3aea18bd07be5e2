from django.contrib import admin
from django.urls import include, path, re_path

from accounts.admin_login import admin_login
from calendars.views import calendar_feed
from config.api import api
from config.health import healthz, readyz
from dashboard.views import DashboardView

urlpatterns = [
    # Ahead of the admin's own routes: its login page, answering 429 while a login limit
    # holds (the same form either way: AccountsConfig.ready).
    path("admin/", include([path("login/", admin_login)])),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # The secret as `secrets.token_urlsafe` writes it; anything else is no feed (404).
    re_path(r"^cal/(?P<secret>[A-Za-z0-9_-]{1,128})\.ics$", calendar_feed, name="calendar-feed"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("", DashboardView.as_view(), name="dashboard"),
]
