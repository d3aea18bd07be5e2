from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import PatchDict, Query, Router, Schema, Status
from ninja.pagination import paginate

from accounts.auth import BY_METHOD, AuthedRequest, JWTAuth
from core.pagination import Pagination
from core.schemas import Message, ValidationErrorOut
from core.types import ObjectId
from habits import selectors, services
from habits.models import Habit
from habits.programs import with_programs
from habits.schemas import HabitIn, HabitOut, PublicHabitOut

router = Router(tags=["habits"], auth=JWTAuth(scope=BY_METHOD))


class HabitPagination(Pagination):
    """A page of habits, each with its program: one query more for the whole page."""

    def paginate_queryset(self, queryset: QuerySet[Habit], pagination: Any, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, **params)
        page[self.items_attribute] = with_programs(page[self.items_attribute])
        return page


class HabitFilters(Schema):
    is_active: bool | None = None
    is_pleasant: bool | None = None


@router.get("/", response={200: list[HabitOut], 401: Message, 422: ValidationErrorOut})
@paginate(HabitPagination)
def habit_list(request: AuthedRequest, filters: Query[HabitFilters]) -> QuerySet[Habit]:
    return selectors.habit_list_for(
        user=request.auth, is_active=filters.is_active, is_pleasant=filters.is_pleasant
    )


@router.post("/", response={201: HabitOut, 401: Message, 422: ValidationErrorOut})
def habit_create(request: AuthedRequest, payload: HabitIn) -> Status:
    habit = services.habit_create(user=request.auth, data=payload.model_dump())
    return Status(201, with_programs([habit])[0])


@router.get("/public/", response={200: list[PublicHabitOut], 422: ValidationErrorOut}, auth=None)
@paginate(Pagination)
def habit_list_public(request: HttpRequest) -> QuerySet[Habit]:
    return selectors.habit_list_public()


@router.get(
    "/{habit_id}/", response={200: HabitOut, 401: Message, 404: Message, 422: ValidationErrorOut}
)
def habit_read(request: AuthedRequest, habit_id: ObjectId) -> Habit:
    habit = get_object_or_404(selectors.habit_list_for(user=request.auth), pk=habit_id)
    return with_programs([habit])[0]


@router.patch(
    "/{habit_id}/",
    response={200: HabitOut, 401: Message, 404: Message, 409: Message, 422: ValidationErrorOut},
)
def habit_update(request: AuthedRequest, habit_id: ObjectId, payload: PatchDict[HabitIn]) -> Habit:
    habit = get_object_or_404(selectors.habit_list_for(user=request.auth), pk=habit_id)
    changes: dict[str, Any] = payload
    return with_programs([services.habit_update(habit=habit, data=changes)])[0]


@router.delete(
    "/{habit_id}/",
    response={204: None, 401: Message, 404: Message, 409: Message, 422: ValidationErrorOut},
)
def habit_delete(request: AuthedRequest, habit_id: ObjectId) -> Status:
    habit = get_object_or_404(selectors.habit_list_for(user=request.auth), pk=habit_id)
    services.habit_delete(habit=habit)
    return Status(204, None)
