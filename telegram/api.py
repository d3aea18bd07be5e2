from ninja import Router, Status

from accounts.auth import AuthedRequest, JWTAuth
from core.schemas import Message
from telegram import services
from telegram.models import TelegramProfile
from telegram.schemas import BindCodeOut, BindingOut

router = Router(tags=["telegram"], auth=JWTAuth())


@router.get("/", response={200: BindingOut, 401: Message})
def binding(request: AuthedRequest) -> BindingOut:
    profile = TelegramProfile.objects.filter(user=request.auth).first()
    if profile is None:
        return BindingOut(bound=False)
    return BindingOut(bound=True, username=profile.username or None, bound_at=profile.bound_at)


@router.delete("/", response={204: None, 401: Message})
def unbind(request: AuthedRequest) -> Status:
    services.telegram_unbind(user=request.auth)
    return Status(204, None)


@router.post("/bind-code/", response={201: BindCodeOut, 401: Message, 429: Message})
def bind_code(request: AuthedRequest) -> Status:
    """A code for `/bind CODE` in the bot (or the deep link); single use, 10 minutes."""
    issued = services.bind_code_issue(user=request.auth)
    return Status(
        201, BindCodeOut(code=issued.code, expires_at=issued.expires_at, link=issued.link)
    )
