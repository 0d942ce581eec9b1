"""Errors the domain raises, each with a message a member can act on, in Japanese."""

from __future__ import annotations


class DomainError(Exception):
    """A refused request. ``message`` is shown to the member as is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """The input breaks a rule (length, format, allowed values)."""


class NotAllowed(DomainError):
    """The member may not do this."""

    def __init__(self, message: str = "この操作を行う権限がありません。", **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]


class NotFound(DomainError):
    """The thing does not exist, or the member may not know that it does."""

    def __init__(self, message: str = "見つかりませんでした。削除されたか、閲覧できない可能性があります。", **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]


class RateLimited(DomainError):
    """Too many attempts in a short time."""


class NotAuthenticated(DomainError):
    def __init__(self, message: str = "ログインしてください。", **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
