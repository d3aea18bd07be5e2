"""WebSocket routes under `/ws/`; the consumer arrives with the live-channel work."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
