"""Every wait the client makes between attempts, as small pure functions.

- Back-off (network failures, 5xx and busy codes on idempotent calls): attempt ``n`` (from 0)
  waits ``uniform(0, min(cap, base * 2**n))`` seconds ("full jitter"), or the server's
  ``Retry-After`` if that is longer.
- 429/418: the server's ``Retry-After``; without one, a 429 waits for the window to roll and a 418
  for Binance's shortest ban (120 s).
- ``Retry-After`` is read as seconds (or an HTTP date) and clamped to [1 s, 3 days] (Binance's
  longest ban) by :func:`clamp_retry_after`: ``0`` must not turn a 429 into a tight loop, nor
  ``1e9`` block a budget for decades. Non-finite or unreadable values count as absent.

The session checks each wait against the call's ``max_wait`` before sleeping.
"""

from __future__ import annotations

import random

from ._config import RetryPolicy
from ._constants import DEFAULT_BAN_S, RETRY_AFTER_MIN_S
from ._errors import RETRYABLE_CODES, UNKNOWN_OUTCOME_CODES
from ._retry_after import clamp_retry_after

__all__ = [
    "backoff_wait",
    "clamp_retry_after",
    "outcome_unknown",
    "rate_limit_wait",
    "should_retry",
]


def backoff_wait(
    attempt: int, retry_after: float | None, policy: RetryPolicy, rng: random.Random
) -> float:
    """How long to wait before retry ``attempt + 1`` of an idempotent call."""
    return max(policy.backoff(attempt, rng), retry_after or 0.0)


def rate_limit_wait(retry_after: float | None, *, banned: bool, window_left: float) -> float:
    """How long a 429 (``banned`` False) or 418 stops the budget it hit."""
    if retry_after is not None:
        return retry_after
    return DEFAULT_BAN_S if banned else max(RETRY_AFTER_MIN_S, window_left)


def should_retry(status: int, code: int | None) -> bool:
    """Whether an idempotent request that got this answer is worth sending again."""
    return status >= 500 or code in RETRYABLE_CODES


def outcome_unknown(status: int, code: int | None) -> bool:
    """Whether a state-changing request that got this answer may have executed."""
    return status >= 500 or code in UNKNOWN_OUTCOME_CODES
