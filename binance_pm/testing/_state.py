"""The simulated account: what the simulator's endpoints read and change."""

from __future__ import annotations

import itertools
from decimal import Decimal

import attrs

__all__ = ["AccountState", "Execution", "SimError"]


class SimError(Exception):
    """An error answer, as Binance sends it: HTTP status and ``{"code": ..., "msg": ...}``."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status


@attrs.frozen
class Execution:
    """A state-changing request the simulator carried out (what a ledger test counts)."""

    method: str
    path: str
    params: dict[str, str]
    server_ms: int
    result: object


@attrs.define
class AccountState:
    """Balances and settings of the one simulated Portfolio Margin Pro account. Edit freely."""

    loan_asset: str = "BUSD"
    loan_amount: Decimal = Decimal("579.45")
    spot: dict[str, Decimal] = attrs.field(
        factory=lambda: {"BUSD": Decimal("10000"), "USDT": Decimal("25000"), "BNB": Decimal("12")}
    )
    margin: dict[str, Decimal] = attrs.field(factory=lambda: {"BUSD": Decimal("500")})
    repay_history: list[tuple[str, Decimal, int]] = attrs.field(factory=list)
    _ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(58203331886213504))

    def next_tran_id(self) -> int:
        """Transaction ids above 2**53, as Binance's are: a float would corrupt them."""
        return next(self._ids)
