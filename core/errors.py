"""The domain's one vocabulary of refusals, in the domain's words and no transport's.

Services raise these; each entry point says them its own way: the API as an HTTP answer
(config/api.py holds the only status table), the bot as a chat reply (telegram/handlers.py).
This module imports no app, so every layer may raise them.
"""

from collections.abc import Iterable
from dataclasses import dataclass


class DomainError(Exception):
    """A refusal a caller can act on; `message` is safe to show the user."""

    default_message: str = "The request was refused."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NotFound(DomainError):
    """No such object, or not the caller's: the two are told apart to nobody."""

    default_message = "Not found."


class Unauthorized(DomainError):
    """The credentials (password, token) do not prove who the caller is."""

    default_message = "Authentication credentials were not valid."


class Forbidden(DomainError):
    """Who the caller is is known, and that credential may not do this (a personal token
    on a login-only operation, or past its scopes)."""

    default_message = "These credentials may not do this."


class Conflict(DomainError):
    """The object's current state refuses the change."""

    default_message = "The request conflicts with the current state."


class TooManyRequests(DomainError):
    """A limit holds; trying again after `retry_after` seconds may succeed."""

    default_message = "Too many attempts; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one input field; `field` is a dotted path (`reward.habit_id`)."""

    field: str
    msg: str
    type: str = "value_error"


class InvalidInput(DomainError):
    """One or more input fields break the rules; every problem is named."""

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.msg}" for p in self.problems))

    @classmethod
    def field(cls, field: str, msg: str, type: str = "value_error") -> "InvalidInput":
        return cls([FieldProblem(field, msg, type)])
