"""Response models: frozen attrs classes with Decimal amounts, UTC datetimes and int ids.

Each has ``from_json`` for the success path (no validation layer: a missing field raises KeyError,
which the session turns into an error naming the endpoint and field) and keeps the whole response
in ``raw``, so fields Binance adds later stay reachable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Self

import attrs

__all__ = ["PmLoan", "RepayResult", "dec", "ms_to_datetime", "text"]



def dec(value: object) -> Decimal:
    """An amount from Binance: a string (thousands separators tolerated) or an exact JSON number.

    NaN and infinities are refused: a model never carries an amount that is not a number.
    """
    if isinstance(value, str):
        d = Decimal(value.replace(",", "") if "," in value else value)
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        d = Decimal(value)
    else:
        raise TypeError(f"expected a decimal string, got {type(value).__name__}")
    if not d.is_finite():
        raise ValueError(f"amount is not a finite number: {value!r}")
    return d


def text(value: object) -> str:
    """A string field; anything else is a malformed answer, not something to coerce."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def ms_to_datetime(value: object) -> datetime:
    """Epoch milliseconds -> aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected integer milliseconds, got {type(value).__name__}")
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@attrs.frozen
class PmLoan:
    """Portfolio Margin Pro bankruptcy loan: ``amount`` is ``Decimal(0)`` when there is none."""

    asset: str
    amount: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(asset=text(data["asset"]), amount=dec(data["amount"]), raw=data)


@attrs.frozen
class RepayResult:
    """Result of a bankruptcy-loan repayment: Binance's transaction id (may exceed 2**53)."""

    tran_id: int
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        tran_id = data["tranId"]
        if isinstance(tran_id, bool) or not isinstance(tran_id, int | str):
            raise TypeError(f"tranId must be an integer, got {type(tran_id).__name__}")
        return cls(tran_id=int(tran_id), raw=data)
