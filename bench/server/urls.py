from django.urls import path

from bench.server.views import TodayView, bare, bare_write
from config.urls import urlpatterns as production

urlpatterns = [
    path("bench/bare/", bare),
    path("bench/drf/today/", TodayView.as_view()),
    path("bench/write/<int:pk>/", bare_write),
    *production,
]
