"""A per-process cache for configuration read on every intake (default department, SLA policies,
the taxonomy). Entries live 60 s at most, so another process's admin edit shows within a minute;
an edit in this process clears the cache at once (signals in the apps' ready())."""

import threading
import time
from collections.abc import Callable
from typing import Any

_TTL_SECONDS = 60.0
_lock = threading.Lock()
_entries: dict[Any, tuple[float, Any]] = {}


def cached(key: Any, load: Callable[[], Any]) -> Any:
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and now - entry[0] < _TTL_SECONDS:
        return entry[1]
    value = load()
    with _lock:
        _entries[key] = (now, value)
    return value


def clear(*args: Any, **kwargs: Any) -> None:
    """Drop everything (usable as a signal receiver)."""
    with _lock:
        _entries.clear()
