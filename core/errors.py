"""Domain errors. Views and the API turn them into responses; actions raise them."""

from collections.abc import Iterable


class DomainError(Exception):
    pass


class ValidationError(DomainError):
    """Input a user can correct: one or more fields, each with a message they can act on."""

    def __init__(self, errors: dict[str, str] | str, message: str | None = None) -> None:
        if isinstance(errors, str):
            errors = {errors: message or ""}
        self.errors = errors
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))


class TransitionNotAllowed(DomainError):
    def __init__(self, action: str, state: str, allowed: Iterable[str], reason: str = "") -> None:
        self.action = action
        self.state = state
        self.allowed = sorted(allowed)
        self.reason = reason
        super().__init__(reason or f"{action} is not allowed in state {state}")


class VersionConflict(DomainError):
    """A write based on an older version of the case; nothing was changed."""

    def __init__(self, current: int, sent: int) -> None:
        self.current = current
        self.sent = sent
        super().__init__(f"case is at version {current}, the write was based on version {sent}")


class RateLimited(DomainError):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__("too many requests")
