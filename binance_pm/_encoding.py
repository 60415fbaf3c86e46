"""Turn parameter values into the exact query bytes that are signed and sent.

Binance signs the percent-encoded string (RFC 3986, UTF-8; unreserved ``A-Z a-z 0-9 - _ . ~``),
so a value is encoded once here and that same text is signed and put on the wire.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

__all__ = ["encode_pairs", "format_value", "quote_value"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def quote_value(text: str) -> str:
    """RFC 3986 percent-encoding: space is ``%20``, ``+ / = & %`` are escaped, UTF-8 for the rest."""
    return quote(text, safe="-_.~")


def format_value(value: object) -> str:
    """Render one parameter value the way Binance reads it.

    bool -> ``true``/``false``; Decimal -> plain notation (never ``1E-5``); int -> digits;
    datetime -> epoch milliseconds (naive datetimes are refused: their zone is a guess);
    enum -> its value; str -> itself. Floats are refused: an amount must be exact.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return format_value(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"decimal value must be finite, got {value}")
        text = format(value, "f")
        # "1.500" and "1.5" are equal amounts; the shorter one is what people type.
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetime must be timezone-aware (use datetime.now(timezone.utc))")
        return str((value - _EPOCH) // _MS)  # integer arithmetic: no float rounding
    if isinstance(value, float):
        raise TypeError("floats are not accepted for parameters; pass a Decimal or a str")
    raise TypeError(f"unsupported parameter type {type(value).__name__}")


def encode_pairs(pairs: Iterable[tuple[str, object]]) -> str:
    """``name=value`` pairs, each side percent-encoded, joined with ``&``, in the given order."""
    return "&".join(
        f"{quote_value(name)}={quote_value(format_value(value))}" for name, value in pairs
    )
