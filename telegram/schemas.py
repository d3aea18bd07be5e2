from datetime import datetime

from ninja import Schema


class BindingOut(Schema):
    bound: bool
    username: str | None = None
    bound_at: datetime | None = None


class BindCodeOut(Schema):
    code: str
    expires_at: datetime
    link: str
