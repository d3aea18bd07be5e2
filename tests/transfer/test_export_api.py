"""`GET /api/export/` (SPEC §9): both formats as dated attachments, only your own data."""

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from accounts.timezones import local_today
from instances.models import Status
from tests.conftest import Api
from tests.factories import HabitFactory, make_instance

pytestmark = pytest.mark.django_db


@pytest.fixture
def habit(user):
    habit = HabitFactory(user=user, action="stretch")
    make_instance(habit, habit.start_date, datetime.now(UTC), status=Status.COMPLETED)
    HabitFactory(action="not mine")
    return habit


def test_json_is_a_dated_attachment_of_your_own_data(authed, user, habit):
    response = authed.get("/api/export/?format=json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    today = local_today(user.timezone)
    assert response["Content-Disposition"] == (f'attachment; filename="atomic-habits-{today}.json"')
    document = json.loads(response.content)
    assert (document["format"], document["user"]["email"]) == ("atomic-habits", user.email)
    assert [h["action"] for h in document["habits"]] == ["stretch"]
    assert [i["status"] for i in document["instances"]] == ["completed"]


def test_loop_csv_is_a_dated_zip_attachment(authed, user, habit):
    response = authed.get("/api/export/?format=loop-csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    today = local_today(user.timezone)
    assert response["Content-Disposition"] == (
        f'attachment; filename="atomic-habits-loop-{today}.zip"'
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    assert "001 stretch/Checkmarks.csv" in archive.namelist()
    assert "not mine" not in archive.read("Habits.csv").decode()


@pytest.mark.parametrize("query", ["?format=xml", "?format=", "?format=JSON", ""])
def test_an_unknown_or_missing_format_is_a_422_naming_it(authed, query):
    response = authed.get(f"/api/export/{query}")

    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["query", "format"]


def test_no_token_is_a_401(db):
    response = Api().get("/api/export/?format=json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
