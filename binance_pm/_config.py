"""Settings as frozen values, and the NOT_GIVEN sentinel for per-call overrides."""

from __future__ import annotations

import enum
import random
from typing import Final, Literal

import attrs

from ._constants import (
    DEFAULT_BACKOFF_BASE_S,
    DEFAULT_BACKOFF_CAP_S,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TOTAL_TIMEOUT_S,
)

__all__ = ["NOT_GIVEN", "NotGiven", "NotGivenType", "RetryPolicy", "Timeout", "as_timeout"]

class NotGiven(enum.Enum):
    """Marks a per-call argument the caller left out (so None can mean something else)."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN
NotGivenType = Literal[NotGiven.NOT_GIVEN]


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be positive, got {value}")


@attrs.frozen
class Timeout:
    """Per-attempt limits in seconds: ``total`` for the whole exchange, ``connect`` to connect."""

    total: float = attrs.field(default=DEFAULT_TOTAL_TIMEOUT_S, validator=_positive)
    connect: float = attrs.field(default=DEFAULT_CONNECT_TIMEOUT_S, validator=_positive)


def as_timeout(value: object) -> Timeout:
    """The one coercion for ``timeout=`` (constructor, ``with_options`` and per call): a
    ``Timeout`` as is, or seconds for the whole attempt with connecting capped at the default 5 s."""
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"timeout must be seconds or a Timeout, not {type(value).__name__}")
    if not (value > 0 and value != float("inf")):
        raise ValueError(f"timeout must be a positive number of seconds, got {value!r}")
    return Timeout(total=float(value), connect=min(float(value), DEFAULT_CONNECT_TIMEOUT_S))


@attrs.frozen
class RetryPolicy:
    """How idempotent requests retry connection errors, timeouts and 5xx.

    Attempt ``n`` (from 0) waits ``uniform(0, min(cap, base * 2**n))`` seconds ("full jitter"),
    at most ``max_retries`` times. A non-idempotent request is never retried once it may have
    reached the server, whatever this says.
    """

    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES)
    base: float = attrs.field(default=DEFAULT_BACKOFF_BASE_S, validator=_positive)
    cap: float = attrs.field(default=DEFAULT_BACKOFF_CAP_S, validator=_positive)

    @max_retries.validator
    def _check_retries(self, _: attrs.Attribute[int], value: int) -> None:
        if not 0 <= value <= 20:
            raise ValueError(f"max_retries must be within 0..20, got {value}")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))
