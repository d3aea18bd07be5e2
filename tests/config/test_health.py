import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_answers_while_the_process_is_up(api):
    response = api.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_database_and_redis_answer(api):
    response = api.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "redis": True}


# Port 1 has no Redis behind it: the same as Redis being away.
@override_settings(REDIS_URL="redis://127.0.0.1:1/0", REDIS_SOCKET_TIMEOUT=0.5)
def test_readyz_is_503_naming_redis_when_redis_is_away(api):
    response = api.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "redis": False}


def test_openapi_docs_are_served(api):
    assert api.get("/api/docs").status_code == 200
    schema = api.get("/api/openapi.json").json()
    assert "/api/auth/login/" in schema["paths"]
