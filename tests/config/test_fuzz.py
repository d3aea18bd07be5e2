"""F1: schemathesis over every operation of `/api/openapi.json`, as a signed-in user.

Every answer must be documented (status code, content type, headers, body shape), none may
be a 5xx, a bad request must be refused, and another user's rows never change. The run is
deterministic (derandomized, no example database) so CI never flakes on a new draw, and
bounded so the whole battery takes under three minutes.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.forms.models import model_to_dict
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from accounts.models import User
from accounts.services import token_pair_issue
from config.api import api
from habits.models import Habit
from habits.services import habit_create
from instances.models import HabitInstance
from tests.conftest import Api
from tests.factories import UserFactory

EXAMPLES_PER_OPERATION = 300
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "mode": "all",  # valid and invalid requests
            "deterministic": True,
            "database": "none",
            # The test signs every request in itself; the fuzzer must not overwrite it.
            "with-security-parameters": False,
            # Unknown query parameters are ignored, as HTTP APIs do (cache busters, tracking);
            # unknown body fields are refused, and the fuzzer still tries those.
            "allow-extra-parameters": False,
        },
        # The API checks more than JSON Schema can say (IANA zones, password strength, the
        # reward rule), so a schema-valid body may rightly be a 422: that check does not apply.
        "checks": {"positive_data_acceptance": {"enabled": False}},
    }
)

# The real Django stack, as a server runs it: each request commits and closes its database
# connection, so the tests use the transactional database.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler(), config=CONFIG)


def _secured_operations() -> set[tuple[str, str]]:
    document = api.get_openapi_schema()
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    }


SECURED = _secured_operations()


@dataclass
class World:
    """The signed-in user's rows, and another user's that no request may touch."""

    owner: User
    own: dict[str, int]
    foreign: dict[str, int]
    stranger: User

    def aim(self, case: Any) -> None:
        """Point some well-formed ids at real rows (own or foreign), so handlers run past 404."""
        for name, value in case.path_parameters.items():
            if isinstance(value, int) and value >= 1 and name in self.own:
                target = (self.own, self.foreign, None)[value % 3]
                if target is not None:
                    case.path_parameters[name] = target[name]

    def strangers_rows(self) -> list[dict[str, Any]]:
        habits = [model_to_dict(h) for h in Habit.objects.filter(user=self.stranger)]
        instances = [model_to_dict(i) for i in HabitInstance.objects.filter(user=self.stranger)]
        return habits + instances


def _habit_with_instances(user: User) -> tuple[Habit, HabitInstance]:
    habit = habit_create(
        user=user, data={"action": "stretch", "time_of_day": time(0, 1), "reward_text": "tea"}
    )
    return habit, HabitInstance.objects.filter(habit=habit).order_by("date").first()


@pytest.fixture
def world(transactional_db: None) -> Iterator[World]:
    owner, stranger = UserFactory(), UserFactory()
    own_habit, own_instance = _habit_with_instances(owner)
    foreign_habit, foreign_instance = _habit_with_instances(stranger)
    world = World(
        owner=owner,
        own={"habit_id": own_habit.pk, "instance_id": own_instance.pk},
        foreign={"habit_id": foreign_habit.pk, "instance_id": foreign_instance.pk},
        stranger=stranger,
    )
    before = world.strangers_rows()
    yield world
    assert world.strangers_rows() == before, "a request changed another user's rows"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented_and_never_5xx(case: Any, world: World) -> None:
    world.aim(case)
    # A fresh token for every request: a fuzzed logout-all must not sign the next one out.
    world.owner.refresh_from_db(fields=["token_version"])
    token = token_pair_issue(user=world.owner).access

    response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

    if (case.method.upper(), case.path) in SECURED:
        assert response.status_code != 401, "a valid token was refused"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), sorted(SECURED))
@pytest.mark.parametrize("token", [None, "not.a.token"])
def test_every_secured_operation_refuses_a_caller_without_a_valid_token(
    method: str, path: str, token: str | None
) -> None:
    concrete = path.replace("{habit_id}", "1").replace("{instance_id}", "1")

    response = Api(token).request(method, concrete, None if method in ("GET", "DELETE") else {})

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided or are not valid."
    }
