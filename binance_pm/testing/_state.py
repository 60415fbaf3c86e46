"""The simulated account: what the simulator's endpoints read and change."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

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
    margin: dict[str, Decimal] = attrs.field(
        factory=lambda: {"BUSD": Decimal("500"), "USDT": Decimal("2000"), "BNB": Decimal("5")}
    )
    # The futures wallets (USDⓈ-M, COIN-M, options) and Binance Earn. A negative futures balance
    # is what repay-futures-negative-balance pays off.
    um: dict[str, Decimal] = attrs.field(
        factory=lambda: {"USDT": Decimal("1200"), "BNB": Decimal("3"), "BTC": Decimal("0.5")}
    )
    cm: dict[str, Decimal] = attrs.field(factory=lambda: {"BTC": Decimal("0.1")})
    option: dict[str, Decimal] = attrs.field(factory=dict)
    earn: dict[str, Decimal] = attrs.field(
        factory=lambda: {"LDUSDT": Decimal("1000"), "RWUSD": Decimal("250")}
    )
    borrowed: dict[str, Decimal] = attrs.field(factory=dict)
    # (asset, amount, repayTime ms); pmloan-history answers newest first, as Binance's example.
    repay_history: list[tuple[str, Decimal, int]] = attrs.field(factory=list)
    # (asset, interest, interestAccruedTime ms, daily rate, principal)
    interest_history: list[tuple[str, Decimal, int, Decimal, Decimal]] = attrs.field(
        factory=lambda: [
            ("USDT", Decimal("24.4440"), 1670227200000, Decimal("0.0001164"), Decimal("210000"))
        ]
    )
    # Order of interest-history answers: unconfirmed for PM Pro (the retail PM docs: newest first).
    interest_newest_first: bool = True
    account: dict[str, Any] = attrs.field(
        factory=lambda: {
            "uniMMR": "5167.92171923", "accountEquity": "122607.35137903",
            "actualEquity": "142607.35137903", "accountMaintMargin": "23.72469206",
            "accountInitialMargin": "47.44938412", "totalAvailableBalance": "122,559.90199491",
            "accountStatus": "NORMAL", "accountType": "PM_1",
        }
    )
    span_account: dict[str, Any] = attrs.field(
        factory=lambda: {
            "uniMMR": "5167.92171923", "accountEquity": "122607.35137903",
            "actualEquity": "142607.35137903", "accountMaintMargin": "23.72469206",
            "riskUnitMMList": [{"asset": "BTC", "uniMaintainUsd": "23.72469206"}],
            "marginMM": "0.00000000", "otherMM": "0.00000000", "accountStatus": "NORMAL",
            "accountType": "PM_3",
        }
    )
    auto_repay: bool = True
    delta_enabled: bool = False
    margin_call_level: Decimal | None = None
    leverage: dict[str, int] = attrs.field(factory=lambda: {"USDC": 10, "BTC": 5, "ETH": 5})
    collateral_rates: dict[str, Decimal] = attrs.field(
        factory=lambda: {"USDC": Decimal("1.0000"), "BTC": Decimal("0.9500"),
                         "BNB": Decimal("0.9500")}
    )
    # asset -> [(tierFloor, tierCap, collateralRate, cum)]
    collateral_tiers: dict[str, list[tuple[Decimal, Decimal, Decimal, Decimal]]] = attrs.field(
        factory=lambda: {
            "BNB": [
                (Decimal("0.0000"), Decimal("1000.0000"), Decimal("1.0000"), Decimal("0.0000")),
                (Decimal("1000.0000"), Decimal("2000.0000"), Decimal("0.9000"), Decimal("0.0000")),
            ]
        }
    )
    index_prices: dict[str, tuple[Decimal, int]] = attrs.field(
        factory=lambda: {"BTC": (Decimal("28251.9136906"), 1683518338121),
                         "ETH": (Decimal("1870.4212"), 1683518338121)}
    )
    # The account's one user-data-stream listen key and when it lapses (server ms).
    listen_key: str | None = None
    listen_key_expires_ms: int = 0
    _ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(58203331886213504))

    def assets(self) -> list[str]:
        """Every asset held in any wallet, sorted."""
        wallets = (self.margin, self.um, self.cm, self.option, self.borrowed)
        return sorted({asset for wallet in wallets for asset in wallet})

    def seed_ids(self, start: int) -> None:
        """Number the next transactions from ``start`` (a seeded server repeats its ids)."""
        self._ids = itertools.count(start)

    def next_tran_id(self) -> int:
        """Transaction ids above 2**53, as Binance's are: a float would corrupt them."""
        return next(self._ids)
