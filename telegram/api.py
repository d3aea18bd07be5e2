from ninja import Router, Status

from accounts.auth import AuthedRequest, JWTAuth
from accounts.personal_tokens import Scope
from core.schemas import Message, ValidationErrorOut
from core.types import ObjectId
from telegram import services
from telegram.models import TelegramProfile
from telegram.schemas import BindCodeOut, BindingOut, SnoozeIn, SnoozeOut

router = Router(tags=["telegram"], auth=JWTAuth())
# Snoozing an instance is owing one more reminder, which is Telegram's: config/api.py mounts
# this router under /instances/ beside the instances' own (as instances/ serves routes under
# /habits/). A personal token with `complete` may snooze; the binding itself takes a login.
instance_router = Router(tags=["instances"], auth=JWTAuth(scope=Scope.COMPLETE))


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


@instance_router.post(
    "/{instance_id}/snooze/",
    response={200: SnoozeOut, 401: Message, 404: Message, 409: Message, 422: ValidationErrorOut},
)
def instance_snooze(request: AuthedRequest, instance_id: ObjectId, payload: SnoozeIn) -> dict:
    """One more reminder at `remind_at` (now + minutes), sent in Telegram only if the instance
    is still open and its fix deadline has not passed by then."""
    snoozed = services.instance_snooze(
        instance_id=instance_id, user_id=request.auth.pk, minutes=payload.minutes
    )
    return {"instance": snoozed.instance, "remind_at": snoozed.remind_at}
