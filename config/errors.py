"""The one error vocabulary of the API.

Services raise these; `config.api` turns each into its HTTP answer:
401 no/bad token, 404 not found or not yours, 409 state conflict, 422 invalid input naming
every bad field as `{"detail": [{"loc": [...], "msg": ...}]}`, 429 too many attempts.
"""

from collections.abc import Iterable
from dataclasses import dataclass


class ApiError(Exception):
    status_code: int = 400
    default_message: str = "Bad request."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class Unauthorized(ApiError):
    status_code = 401
    default_message = "Authentication credentials were not valid."


class Conflict(ApiError):
    status_code = 409
    default_message = "The request conflicts with the current state."


class TooManyRequests(ApiError):
    status_code = 429
    default_message = "Too many attempts; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True)
class FieldProblem:
    field: str
    msg: str
    type: str = "value_error"


class InvalidInput(ApiError):
    """422 naming one or more fields of the request body."""

    status_code = 422

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.msg}" for p in self.problems))

    @classmethod
    def field(cls, field: str, msg: str, type: str = "value_error") -> "InvalidInput":
        return cls([FieldProblem(field, msg, type)])

    def as_detail(self) -> list[dict[str, object]]:
        return [
            {"loc": ["body", *p.field.split(".")], "msg": p.msg, "type": p.type}
            for p in self.problems
        ]
