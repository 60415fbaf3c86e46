"""The retry decisions, as small pure functions."""

from __future__ import annotations

import math

from ._errors import RETRYABLE_CODES, UNKNOWN_OUTCOME_CODES

__all__ = ["outcome_unknown", "parse_retry_after", "should_retry"]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (Binance sends whole seconds); None if unusable."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP-date or garbage: the caller falls back to a safe default
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def should_retry(status: int, code: int | None) -> bool:
    """Whether an idempotent request that got this answer is worth sending again."""
    return status >= 500 or code in RETRYABLE_CODES


def outcome_unknown(status: int, code: int | None) -> bool:
    """Whether a state-changing request that got this answer may have executed."""
    return status >= 500 or code in UNKNOWN_OUTCOME_CODES
