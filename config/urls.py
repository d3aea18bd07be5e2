from django.contrib import admin
from django.urls import path

from config.api import api
from config.health import healthz, readyz
from dashboard.views import DashboardView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("", DashboardView.as_view(), name="dashboard"),
]
