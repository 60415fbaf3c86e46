"""``Retry-After`` as a number of seconds the client can safely wait: parsed, checked, clamped.

RFC 9110 allows ``delay-seconds`` (Binance sends whole seconds) or an HTTP-date. What comes back
may also come from a proxy or a hostile middlebox, so nothing is trusted as it comes:

- a number (``"2"``, ``"1.5"``, ``"1e3"``; ASCII digits only) or an HTTP-date in the future is a
  delay, clamped to ``[RETRY_AFTER_MIN_S, RETRY_AFTER_MAX_S]`` = [1 s, 3 days];
- an HTTP-date already past means "now", which the floor makes 1 s;
- anything else is absent (``None``): negative numbers, ``nan``/``inf`` and numerals too large for
  a float, an empty value, garbage. The caller then uses its own default (the rest of the weight
  window for a 429, the minimum ban for a 418).
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

from ._constants import RETRY_AFTER_MAX_S, RETRY_AFTER_MIN_S

__all__ = ["RETRY_AFTER_MAX_S", "RETRY_AFTER_MIN_S", "clamp_retry_after"]

# float() alone would also take "1_000", "+5", " nan", "١٢" (Arabic-Indic digits) and "infinity".
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def clamp_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, in [1 s, 3 days], or None if unusable.

    ``now``: the wall clock (Unix seconds) an HTTP-date is measured from; default ``time.time()``.
    Never raises.
    """
    if value is None:
        return None
    text = value.strip(" \t")
    if _NUMBER.fullmatch(text):
        seconds = float(text)  # cannot fail on this syntax; may overflow to inf
        if not math.isfinite(seconds):
            return None
    else:
        seconds_or_none = _from_http_date(text, time.time() if now is None else now)
        if seconds_or_none is None:
            return None
        seconds = seconds_or_none
    return min(max(seconds, RETRY_AFTER_MIN_S), RETRY_AFTER_MAX_S)


def _from_http_date(text: str, now: float) -> float | None:
    """Seconds from ``now`` until an HTTP-date (negative if past), or None if ``text`` is not one."""
    if not text or not text[0].isalpha():  # every HTTP-date form starts with a day name
        return None
    try:
        when = parsedate_to_datetime(text)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322's "UTC, origin unknown"; HTTP-dates are GMT
        when = when.replace(tzinfo=UTC)
    return when.timestamp() - now
