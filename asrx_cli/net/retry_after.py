"""A server's Retry-After header: how long it asks a client to wait before trying again.

RFC 9110 §10.2.3: a number of seconds, or an HTTP date. Anything else is no
answer (None): the client's own backoff applies.
"""

import datetime
import email.utils
import time
from typing import Optional


def retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from `now` (a Unix time; the clock's if None), at least 0, or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP dates are in UTC all the same
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)
