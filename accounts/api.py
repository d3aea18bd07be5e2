from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from accounts import services
from accounts.auth import AuthedRequest, JWTAuth
from accounts.me_cache import me_json, me_keys
from accounts.models import PersonalToken, User
from accounts.schemas import (
    LoginIn,
    MePatch,
    PasswordChangeIn,
    PersonalTokenCreatedOut,
    PersonalTokenIn,
    PersonalTokenOut,
    RefreshIn,
    RegisterIn,
    TokenPairOut,
    UserOut,
)
from accounts.selectors import personal_tokens_live
from core.requests import client_ip
from core.schemas import Message, ValidationErrorOut, json_response, rendered
from core.types import ObjectId

router = Router(tags=["auth"])


@router.post("/register/", response={201: UserOut, 422: ValidationErrorOut, 429: Message})
def register(request: HttpRequest, payload: RegisterIn) -> Status:
    user = services.user_register(
        email=payload.email,
        password=payload.password,
        ip=client_ip(request),
        timezone_name=payload.timezone,
    )
    return Status(201, user)


@router.post(
    "/login/", response={200: TokenPairOut, 401: Message, 422: ValidationErrorOut, 429: Message}
)
def login(request: HttpRequest, payload: LoginIn) -> services.TokenPair:
    return services.user_login(
        request=request, email=payload.email, password=payload.password, ip=client_ip(request)
    )


@router.post("/refresh/", response={200: TokenPairOut, 401: Message, 422: ValidationErrorOut})
def refresh(request: HttpRequest, payload: RefreshIn) -> services.TokenPair:
    return services.token_refresh(refresh=payload.refresh)


@router.post("/logout/", response={204: None, 401: Message, 422: ValidationErrorOut})
def logout(request: HttpRequest, payload: RefreshIn) -> Status:
    services.token_logout(refresh=payload.refresh)
    return Status(204, None)


@router.post("/logout-all/", auth=JWTAuth(), response={204: None, 401: Message})
def logout_all(request: AuthedRequest) -> Status:
    services.user_logout_all(user=request.auth)
    return Status(204, None)


@router.post(
    "/password/",
    auth=JWTAuth(),
    response={204: None, 401: Message, 422: ValidationErrorOut, 429: Message},
)
def password_change(request: AuthedRequest, payload: PasswordChangeIn) -> Status:
    services.user_password_change(
        user=request.auth, old_password=payload.old_password, new_password=payload.new_password
    )
    return Status(204, None)


@router.get(
    "/me/",
    # The cached answer is read with the token state: one Redis round trip, or none from memory.
    auth=JWTAuth(prefetch=me_keys),
    response={200: UserOut, 401: Message},
)
def me(request: AuthedRequest) -> HttpResponse:
    # Already the JSON of UserOut (accounts/me_cache.py): sent as it is.
    body = me_json(request.auth.pk, request.prefetched) or rendered(UserOut, request.auth)
    return json_response(body)


@router.patch(
    "/me/", auth=JWTAuth(), response={200: UserOut, 401: Message, 422: ValidationErrorOut}
)
def me_update(request: AuthedRequest, payload: MePatch) -> User:
    """Only the fields sent change; `"quiet_hours": null` clears them."""
    quiet = payload.quiet_hours
    sent = "quiet_hours" in payload.model_fields_set
    return services.user_update(
        user=request.auth,
        timezone_name=payload.timezone,
        quiet_hours=(quiet and quiet.times()) if sent else ...,
    )


# Personal tokens (SPEC §10): managed with a login token only (JWTAuth's default scope), so
# a token cannot mint or revoke tokens.
tokens_router = Router(tags=["tokens"], auth=JWTAuth())


@tokens_router.get("/", response={200: list[PersonalTokenOut], 401: Message, 403: Message})
def personal_token_list(request: AuthedRequest) -> list[PersonalToken]:
    """Your tokens not revoked, newest first (expired ones too, until you revoke them)."""
    return list(personal_tokens_live(user=request.auth))


@tokens_router.post(
    "/",
    response={201: PersonalTokenCreatedOut, 401: Message, 403: Message, 422: ValidationErrorOut},
)
def personal_token_create(request: AuthedRequest, payload: PersonalTokenIn) -> Status:
    """A new token; `token`, its secret, is in this answer and never again."""
    issued = services.personal_token_create(user=request.auth, **payload.model_dump())
    return Status(201, PersonalTokenCreatedOut(**_listed(issued.row), token=issued.secret))


@tokens_router.delete(
    "/{token_id}/",
    response={204: None, 401: Message, 403: Message, 404: Message, 422: ValidationErrorOut},
)
def personal_token_revoke(request: AuthedRequest, token_id: ObjectId) -> Status:
    """Revoke: the token fails from now on, on every server."""
    services.personal_token_revoke(user=request.auth, token_id=token_id)
    return Status(204, None)


def _listed(row: PersonalToken) -> dict:
    return PersonalTokenOut.model_validate(row).model_dump()
