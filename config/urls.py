from django.contrib import admin
from django.urls import include, path

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
    # The calendar feed: the secret in the path is its only key (calendars/views.py).
    path("cal/<str:secret>.ics", calendar_feed, name="calendar-feed"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("", DashboardView.as_view(), name="dashboard"),
]
