from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import PatchDict, Query, Router, Status

from accounts.auth import BY_METHOD, AuthedRequest, JWTAuth
from core.pagination import Pagination
from core.schemas import Message, ValidationErrorOut, json_response
from core.types import ObjectId
from habits import selectors, services
from habits.list_cache import (
    PagedHabitOut,
    PagedPublicHabitOut,
    habit_list_keys,
    habit_page_json,
    public_page_json,
)
from habits.models import Habit
from habits.programs import with_programs
from habits.schemas import HabitIn, HabitOut

router = Router(tags=["habits"], auth=JWTAuth(scope=BY_METHOD))


class HabitPage(Pagination.Input):
    is_active: bool | None = None
    is_pleasant: bool | None = None


@router.get(
    "/",
    response={200: PagedHabitOut, 401: Message, 422: ValidationErrorOut},
    # The asked page is read with the token state: one Redis round trip, or none from memory.
    auth=JWTAuth(prefetch=habit_list_keys, scope=BY_METHOD),
)
def habit_list(request: AuthedRequest, page: Query[HabitPage]) -> HttpResponse:
    """Your habits, newest first, each with its program; optionally filtered."""
    # Already the page's JSON (habits/list_cache.py): sent as it is.
    return json_response(
        habit_page_json(
            request.auth,
            page.limit,
            page.offset,
            page.is_active,
            page.is_pleasant,
            request.prefetched,
        )
    )


@router.post("/", response={201: HabitOut, 401: Message, 422: ValidationErrorOut})
def habit_create(request: AuthedRequest, payload: HabitIn) -> Status:
    habit = services.habit_create(user=request.auth, data=payload.model_dump())
    return Status(201, with_programs([habit])[0])


@router.get(
    "/public/",
    response={200: PagedPublicHabitOut, 422: ValidationErrorOut},
    auth=None,
)
def habit_list_public(request: HttpRequest, page: Query[Pagination.Input]) -> HttpResponse:
    """Everyone's public habits, newest first: what and how often, never who."""
    # The same page for everyone (habits/list_cache.py), sent as it is.
    return json_response(public_page_json(page.limit, page.offset))


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
