"""Argument checks that run before anything is sent; each names the parameter it refuses."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from ._constants import MAX_RECV_WINDOW_MS

__all__ = [
    "check_max_wait",
    "check_recv_window",
    "check_time_range",
    "decimal_in",
    "enum_of",
    "enum_subset",
    "flag",
    "int_in",
    "positive_decimal",
    "text",
    "time_ms",
]

Check = Callable[[str, object], object]


def _decimal(name: str, value: object) -> Decimal:
    if isinstance(value, bool | float):
        raise TypeError(f"{name} must be a Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int | str):
        try:
            d = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{name} is not a number: {value!r}") from None
    else:
        raise TypeError(f"{name} must be a Decimal, int or str, not {type(value).__name__}")
    if not d.is_finite():
        raise ValueError(f"{name} must be finite, got {d}")
    return d


def positive_decimal(name: str, value: object) -> Decimal:
    """A finite amount greater than zero (floats refused: they are not exact)."""
    d = _decimal(name, value)
    if d <= 0:
        raise ValueError(f"{name} must be positive, got {d}")
    return d


def decimal_in(low: Decimal, high: Decimal) -> Check:
    """A finite decimal within ``[low, high]``."""

    def check(name: str, value: object) -> Decimal:
        d = _decimal(name, value)
        if not low <= d <= high:
            raise ValueError(f"{name} must be within [{low}, {high}], got {d}")
        return d

    return check


def int_in(low: int, high: int) -> Check:
    """An int within ``[low, high]``."""

    def check(name: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        if not low <= value <= high:
            raise ValueError(f"{name} must be within [{low}, {high}], got {value}")
        return value

    return check


def enum_of(cls: type[enum.StrEnum]) -> Check:
    """A member of ``cls`` or one of its values."""

    def check(name: str, value: object) -> enum.StrEnum:
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls(value)
            except ValueError:
                pass
        allowed = ", ".join(m.value for m in cls)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")

    return check


def enum_subset(cls: type[enum.StrEnum], *allowed: enum.StrEnum) -> Check:
    """A member of ``cls`` (or its value) that is one of ``allowed``: an endpoint taking fewer."""
    member = enum_of(cls)

    def check(name: str, value: object) -> enum.StrEnum:
        try:
            got = member(name, value)
        except ValueError:
            got = None
        if not isinstance(got, cls) or got not in allowed:
            names = ", ".join(m.value for m in allowed)
            raise ValueError(f"{name} must be one of {names}; got {value!r}")
        return got

    return check


def flag(name: str, value: object) -> bool:
    """A real bool (sent as ``true``/``false``); the string "false" is truthy, so it is refused."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


def text(name: str, value: object) -> str:
    """A non-empty printable string (no control characters: they have no place in a parameter)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value or not value.isprintable():
        raise ValueError(f"{name} must be a non-empty printable string, got {value!r}")
    return value


def time_ms(name: str, value: object) -> int:
    """An aware datetime or epoch milliseconds, as epoch milliseconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")
        from ._encoding import format_value

        return int(format_value(value))
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a datetime or int milliseconds, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


def check_recv_window(value: object) -> int:
    """recvWindow in ms: an int in (0, 60000]; Binance answers -1131 above that."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"recv_window must be an int of milliseconds, not {type(value).__name__}")
    if not 0 < value <= MAX_RECV_WINDOW_MS:
        raise ValueError(f"recv_window must be within 1..{MAX_RECV_WINDOW_MS} ms, got {value}")
    return value


def check_time_range(
    start: object,
    end: object,
    *,
    max_span_ms: int | None = None,
    names: tuple[str, str] = ("start", "end"),
) -> None:
    """Cross-parameter rule: ``start <= end`` and, when given, ``end - start <= max_span_ms``.

    Either bound may be None (not sent); each is checked with :func:`time_ms` first, so a bad type
    is named before the range is.
    """
    lo = None if start is None else time_ms(names[0], start)
    hi = None if end is None else time_ms(names[1], end)
    if lo is None or hi is None:
        return
    if lo > hi:
        raise ValueError(f"{names[0]} must not be after {names[1]}")
    if max_span_ms is not None and hi - lo > max_span_ms:
        days = max_span_ms / 86_400_000
        raise ValueError(f"{names[0]}..{names[1]} spans more than {days:g} days (Binance's limit)")


def check_max_wait(value: object) -> float:
    """``max_wait``: seconds a call may wait for weight, a slot, a ban or a back-off."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
        raise ValueError(f"max_wait must be a non-negative number of seconds, got {value!r}")
    return float(value)
