"""Counting requests against a limit in a fixed window, shared by every worker through the
database cache (the password reset throttle, the verification page's lookups)."""

import hashlib
import time

from django.core.cache import cache


def over_limit(prefix: str, value: str, *, limit: int, window_seconds: int) -> bool:
    """Count one request against `value` and say whether it is over `limit` in the current
    window. `value` (an address, an e-mail) is kept only hashed, and only in the cache for
    the window. The count and the window's start are stored together, so the window does
    not move with each request. Two workers counting the same instant may each miss the
    other's request: the limit may be passed by one or two, never more."""
    key = f"{prefix}:{hashlib.sha256(value.encode()).hexdigest()}"
    now = time.time()
    count, started = cache.get(key) or (0, now)
    if now - started >= window_seconds:
        count, started = 0, now
    count += 1
    remaining = window_seconds - (now - started)
    cache.set(key, (count, started), timeout=max(1, int(remaining) + 1))
    return count > limit
