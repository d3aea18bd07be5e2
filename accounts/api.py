from django.http import HttpRequest
from ninja import Router, Status

from accounts import services
from accounts.auth import AuthedRequest, JWTAuth
from accounts.models import User
from accounts.schemas import (
    LoginIn,
    MePatch,
    PasswordChangeIn,
    RefreshIn,
    RegisterIn,
    TokenPairOut,
    UserOut,
)
from core.requests import client_ip
from core.schemas import Message, ValidationErrorOut

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


@router.get("/me/", auth=JWTAuth(), response={200: UserOut, 401: Message})
def me(request: AuthedRequest) -> User:
    return request.auth


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
