"""Values other apps add to a message when it is rendered.

The feedback app registers the survey link, a signed token computed at render time and never stored:
`register_context("survey", lambda delivery: {"link": survey_url(delivery.complaint)})`. Functions
are called at each attempt, in the delivery's language; what they return overrides the defaults."""

from collections.abc import Callable
from typing import Any

_FUNCTIONS: dict[str, list[Callable[[Any], dict[str, Any]]]] = {}
_PLACEHOLDERS: dict[str, set[str]] = {}


def register_context(event: str, func: Callable[[Any], dict[str, Any]], *, placeholders: tuple[str, ...] = ()) -> None:
    """Call `func(delivery) -> dict` when a message of `event` is rendered. `placeholders` names the
    extra keys it provides, so that admins may use them in that event's templates. Registering the
    same function twice (a re-run ready()) keeps one."""
    functions = _FUNCTIONS.setdefault(event, [])
    if func not in functions:
        functions.append(func)
    _PLACEHOLDERS.setdefault(event, set()).update(placeholders)


def context_for(delivery: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for func in _FUNCTIONS.get(delivery.event, []):
        values.update(func(delivery) or {})
    return values


def placeholders(event: str) -> set[str]:
    return set(_PLACEHOLDERS.get(event, set()))


def unregister(event: str, func: Callable[[Any], dict[str, Any]]) -> None:
    """For tests."""
    if func in _FUNCTIONS.get(event, []):
        _FUNCTIONS[event].remove(func)
