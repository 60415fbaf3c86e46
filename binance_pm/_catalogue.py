"""The Portfolio Margin Pro endpoint specs (paths, weights, parameters) from Binance's docs."""

from __future__ import annotations

import enum

from ._endpoints import Endpoint, Weight, choice
from .limits import WeightKind

__all__ = ["PM_LOAN", "REPAY", "RepaySource"]

UID, IP = WeightKind.UID, WeightKind.IP


class RepaySource(enum.StrEnum):
    """The wallet a repayment is paid from."""

    SPOT = "SPOT"
    MARGIN = "MARGIN"


PM_LOAN = Endpoint("pm_loan", "GET", "/sapi/v1/portfolio/pmLoan", Weight(UID, 500))

REPAY = Endpoint(
    "repay",
    "POST",
    "/sapi/v1/portfolio/repay",
    Weight(UID, 3000),
    params=(choice("from_", "from", RepaySource),),
)
