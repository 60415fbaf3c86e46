"""The Portfolio Margin Pro endpoint specs (paths, weights, parameters) from Binance's docs.

Parameter order in a spec is the order on the wire (and so in the signed payload); it follows the
order of Binance's parameter tables. The removed BFUSD ``mint``/``redeem`` calls (``-21015
ENDPOINT_GONE`` since 2025-11) are deliberately absent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal

from ._endpoints import Endpoint, Param, Weight, choice
from ._pools import WeightKind
from ._validate import decimal_in, enum_subset, flag, int_in, positive_decimal, text, time_ms

__all__ = [
    "ACCOUNT_INFO",
    "ASSET_COLLECTION",
    "ASSET_INDEX_PRICE",
    "ASSET_LEVERAGE",
    "AUTO_COLLECTION",
    "AUTO_REPAY_FUTURES",
    "BALANCE",
    "BNB_TRANSFER",
    "COLLATERAL_RATES",
    "DELETE_MARGIN_CALL_LEVEL",
    "DELTA_MODE",
    "EARN_ASSET_BALANCE",
    "EARN_ASSET_TRANSFER",
    "INTEREST_HISTORY",
    "MARGIN_CALL_LEVEL",
    "MAX_HISTORY_SIZE",
    "PM_LOAN",
    "REPAY",
    "REPAY_FUTURES_NEGATIVE_BALANCE",
    "REPAY_HISTORY",
    "REPAY_HISTORY_MAX_SPAN_MS",
    "SET_AUTO_REPAY_FUTURES",
    "SET_DELTA_MODE",
    "SET_MARGIN_CALL_LEVEL",
    "SPAN_ACCOUNT_INFO",
    "TIERED_COLLATERAL_RATES",
    "EarnAsset",
    "EarnTransferType",
    "FutureType",
    "RepaySource",
    "TransferSide",
]

UID, IP = WeightKind.UID, WeightKind.IP

MAX_HISTORY_SIZE = 100  # ``size`` on the history endpoints: default 10, max 100
REPAY_HISTORY_MAX_SPAN_MS = 360 * 86_400_000  # pmloan-history: startTime..endTime <= 360 days
MARGIN_CALL_LEVEL_RANGE = (Decimal("1.1"), Decimal("2.0"))


class RepaySource(enum.StrEnum):
    """The wallet a repayment is paid from."""

    SPOT = "SPOT"
    MARGIN = "MARGIN"


class TransferSide(enum.StrEnum):
    """Direction of a BNB transfer between the margin account and the USDⓈ-M account."""

    TO_UM = "TO_UM"
    FROM_UM = "FROM_UM"


class FutureType(enum.StrEnum):
    """The futures wallet an asset collection draws from (``OPTION``: PM Pro SPAN accounts only)."""

    UM = "UM"
    CM = "CM"
    OPTION = "OPTION"


class EarnTransferType(enum.StrEnum):
    """Direction of an earn-asset transfer: into the PM account as collateral, or back to Earn."""

    EARN_TO_FUTURE = "EARN_TO_FUTURE"
    FUTURE_TO_EARN = "FUTURE_TO_EARN"


class EarnAsset(enum.StrEnum):
    """Earn assets that can serve as Portfolio Margin collateral."""

    LDUSDT = "LDUSDT"
    RWUSD = "RWUSD"


def _asset(*, required: bool = False) -> Param:
    return Param("asset", "asset", text, required)


def _history_size() -> Param:
    return Param("size", "size", int_in(1, MAX_HISTORY_SIZE))


def _index_price_weight(args: Mapping[str, object]) -> Weight:
    # Binance charges 1 for one asset and 50 for the whole table.
    return Weight(IP, 1 if args.get("asset") is not None else 50)


# -- account ---------------------------------------------------------------------------------

ACCOUNT_INFO = Endpoint("account_info", "GET", "/sapi/v1/portfolio/account", Weight(UID, 5))

SPAN_ACCOUNT_INFO = Endpoint(
    "span_account_info", "GET", "/sapi/v2/portfolio/account", Weight(IP, 5)
)

BALANCE = Endpoint(
    "balance", "GET", "/sapi/v1/portfolio/balance", Weight(IP, 20), params=(_asset(),)
)

PM_LOAN = Endpoint("pm_loan", "GET", "/sapi/v1/portfolio/pmLoan", Weight(UID, 500))

REPAY = Endpoint(
    "repay",
    "POST",
    "/sapi/v1/portfolio/repay",
    Weight(UID, 3000),
    params=(choice("from_", "from", RepaySource),),
)

REPAY_HISTORY = Endpoint(
    "repay_history",
    "GET",
    "/sapi/v1/portfolio/pmloan-history",
    Weight(IP, 500),
    params=(
        Param("start", "startTime", time_ms),
        Param("end", "endTime", time_ms),
        Param("current", "current", int_in(1, 2**31 - 1)),
        _history_size(),
    ),
)

INTEREST_HISTORY = Endpoint(
    "interest_history",
    "GET",
    "/sapi/v1/portfolio/interest-history",
    Weight(IP, 50),
    params=(
        _asset(),
        Param("start", "startTime", time_ms),
        Param("end", "endTime", time_ms),
        _history_size(),
    ),
)

AUTO_COLLECTION = Endpoint(
    "auto_collection", "POST", "/sapi/v1/portfolio/auto-collection", Weight(IP, 1500)
)

ASSET_COLLECTION = Endpoint(
    "asset_collection",
    "POST",
    "/sapi/v1/portfolio/asset-collection",
    Weight(IP, 60),
    params=(
        _asset(required=True),
        Param("amount", "amount", positive_decimal),
        choice("future_type", "futureType", FutureType),
    ),
)

BNB_TRANSFER = Endpoint(
    "bnb_transfer",
    "POST",
    "/sapi/v1/portfolio/bnb-transfer",
    Weight(IP, 1500),
    params=(
        Param("amount", "amount", positive_decimal, required=True),
        choice("transfer_side", "transferSide", TransferSide, required=True),
    ),
)

AUTO_REPAY_FUTURES = Endpoint(
    "auto_repay_futures", "GET", "/sapi/v1/portfolio/repay-futures-switch", Weight(IP, 30)
)

SET_AUTO_REPAY_FUTURES = Endpoint(
    "set_auto_repay_futures",
    "POST",
    "/sapi/v1/portfolio/repay-futures-switch",
    Weight(IP, 1500),
    params=(Param("auto_repay", "autoRepay", flag, required=True),),
)

REPAY_FUTURES_NEGATIVE_BALANCE = Endpoint(
    "repay_futures_negative_balance",
    "POST",
    "/sapi/v1/portfolio/repay-futures-negative-balance",
    Weight(IP, 1500),
    # In Binance's docs; the official SDK (9.0.0) does not send it. The docs win.
    params=(choice("from_", "from", RepaySource),),
)

MARGIN_CALL_LEVEL = Endpoint(
    "margin_call_level", "GET", "/sapi/v1/portfolio/margin-call-level", Weight(IP, 1500)
)

SET_MARGIN_CALL_LEVEL = Endpoint(
    "set_margin_call_level",
    "POST",
    "/sapi/v1/portfolio/margin-call-level",
    Weight(IP, 1500),
    params=(
        Param("level", "marginCallLevel", decimal_in(*MARGIN_CALL_LEVEL_RANGE), required=True),
    ),
)

DELETE_MARGIN_CALL_LEVEL = Endpoint(
    "delete_margin_call_level", "DELETE", "/sapi/v1/portfolio/margin-call-level", Weight(IP, 1500)
)

DELTA_MODE = Endpoint("delta_mode", "GET", "/sapi/v1/portfolio/delta-mode", Weight(IP, 1500))

SET_DELTA_MODE = Endpoint(
    "set_delta_mode",
    "POST",
    "/sapi/v1/portfolio/delta-mode",
    Weight(IP, 1500),
    params=(Param("delta_enabled", "deltaEnabled", flag, required=True),),
)

EARN_ASSET_BALANCE = Endpoint(
    "earn_asset_balance",
    "GET",
    "/sapi/v1/portfolio/earn-asset-balance",
    Weight(IP, 1500),
    params=(
        # Binance's docs: LDUSDT only here, though the transfer also takes RWUSD.
        Param("asset", "asset", enum_subset(EarnAsset, EarnAsset.LDUSDT), required=True),
        choice("transfer_type", "transferType", EarnTransferType, required=True),
    ),
)

EARN_ASSET_TRANSFER = Endpoint(
    "earn_asset_transfer",
    "POST",
    "/sapi/v1/portfolio/earn-asset-transfer",
    Weight(UID, 1500),
    params=(
        choice("asset", "asset", EarnAsset, required=True),
        choice("transfer_type", "transferType", EarnTransferType, required=True),
        Param("amount", "amount", positive_decimal, required=True),
    ),
)

ASSET_LEVERAGE = Endpoint(
    "asset_leverage", "GET", "/sapi/v1/portfolio/margin-asset-leverage", Weight(IP, 50)
)

# -- market data -------------------------------------------------------------------------------

COLLATERAL_RATES = Endpoint(
    # MARKET_DATA: API key header only, no timestamp or signature.
    "collateral_rates", "GET", "/sapi/v1/portfolio/collateralRate", Weight(IP, 50), signed=False
)

TIERED_COLLATERAL_RATES = Endpoint(
    "tiered_collateral_rates", "GET", "/sapi/v2/portfolio/collateralRate", Weight(IP, 50)
)

ASSET_INDEX_PRICE = Endpoint(
    "asset_index_prices",
    "GET",
    "/sapi/v1/portfolio/asset-index-price",
    Weight(IP, 50),
    signed=False,
    params=(_asset(),),
    weight_rule=_index_price_weight,
)
