"""Response models: frozen attrs classes with Decimal amounts, UTC datetimes and int ids.

Each has ``from_json`` for the success path (no validation layer: a missing field raises KeyError,
which the session turns into an error naming the endpoint and field) and keeps the whole response
in ``raw``, so fields Binance adds later stay reachable.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Self, TypeVar

import attrs

__all__ = [
    "Ack",
    "AccountInfo",
    "AccountStatus",
    "AccountType",
    "AssetIndexPrice",
    "AssetLeverage",
    "AutoRepayFuturesStatus",
    "Balance",
    "BnbTransferResult",
    "CollateralRate",
    "CollateralTier",
    "DeltaMode",
    "EarnAssetBalance",
    "InterestRecord",
    "MarginCallLevel",
    "PmLoan",
    "RepayHistoryPage",
    "RepayRecord",
    "RepayResult",
    "RiskUnitMaintenance",
    "SpanAccountInfo",
    "TieredCollateralRate",
    "boolean",
    "dec",
    "integer",
    "many",
    "ms_to_datetime",
    "opt_dec",
    "text",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.StrEnum)


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


def opt_dec(data: Mapping[str, Any], key: str) -> Decimal | None:
    """An amount Binance may leave out or send as ``""`` (e.g. ``cmUnrealizedPNL``): None then."""
    value = data.get(key)
    if value is None or value == "":
        return None
    return dec(value)


def integer(value: object) -> int:
    """An id or count: a JSON integer or a string of digits (never via float: ids exceed 2**53)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return int(value)


def boolean(value: object) -> bool:
    """A JSON bool; the strings ``"true"``/``"false"`` are tolerated, nothing else is coerced."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise TypeError(f"expected a bool, got {value!r}")


def _known(cls: type[E], value: object) -> E | str:
    """A member of ``cls`` when Binance sends a known value; a new value stays a plain str."""
    raw = text(value)
    try:
        return cls(raw)
    except ValueError:
        return raw


def _rows(data: Any) -> list[Any]:
    # A list endpoint asked about one asset may answer with the bare object.
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise TypeError(f"expected a JSON array, got {type(data).__name__}")
    return data


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    """The first present key of several spellings; KeyError names the documented one."""
    for key in keys:
        if key in data:
            return data[key]
    raise KeyError(keys[0])


def many(parse: Callable[[Any], T]) -> Callable[[Any], tuple[T, ...]]:
    """A parser for a JSON array whose items ``parse`` reads."""

    def parse_all(data: Any) -> tuple[T, ...]:
        return tuple(parse(row) for row in _rows(data))

    return parse_all


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


class AccountStatus(enum.StrEnum):
    """``accountStatus`` values Binance documents (a new one arrives as a plain ``str``)."""

    NORMAL = "NORMAL"
    MARGIN_CALL = "MARGIN_CALL"
    SUPPLY_MARGIN = "SUPPLY_MARGIN"
    REDUCE_ONLY = "REDUCE_ONLY"
    ACTIVE_LIQUIDATION = "ACTIVE_LIQUIDATION"
    FORCE_LIQUIDATION = "FORCE_LIQUIDATION"
    BANKRUPTED = "BANKRUPTED"


class AccountType(enum.StrEnum):
    """``accountType``: ``PM_1`` PM Pro, ``PM_2`` PM (retail), ``PM_3`` PM Pro SPAN."""

    PM_1 = "PM_1"
    PM_2 = "PM_2"
    PM_3 = "PM_3"


@attrs.frozen
class Ack:
    """Binance's plain acknowledgement, ``{"msg": "success"}``."""

    msg: str
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(msg=text(data["msg"]), raw=data)


@attrs.frozen
class AccountInfo:
    """Portfolio Margin Pro account summary; USD amounts. ``uni_mmr`` is the maintenance ratio.

    ``account_initial_margin`` and ``total_available_balance`` mean nothing for PM Pro (and PM Pro
    SPAN) accounts, Binance says; they are None when absent or empty.
    """

    uni_mmr: Decimal
    account_equity: Decimal
    actual_equity: Decimal
    account_maint_margin: Decimal
    account_initial_margin: Decimal | None
    total_available_balance: Decimal | None
    account_status: AccountStatus | str
    account_type: AccountType | str
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(
            uni_mmr=dec(data["uniMMR"]),
            account_equity=dec(data["accountEquity"]),
            actual_equity=dec(data["actualEquity"]),
            account_maint_margin=dec(data["accountMaintMargin"]),
            account_initial_margin=opt_dec(data, "accountInitialMargin"),
            total_available_balance=opt_dec(data, "totalAvailableBalance"),
            account_status=_known(AccountStatus, data["accountStatus"]),
            account_type=_known(AccountType, data["accountType"]),
            raw=data,
        )


@attrs.frozen
class RiskUnitMaintenance:
    """Maintenance margin of one risk unit, in USD."""

    asset: str
    uni_maintain_usd: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(asset=text(data["asset"]), uni_maintain_usd=dec(data["uniMaintainUsd"]), raw=data)


@attrs.frozen
class SpanAccountInfo:
    """PM Pro SPAN account summary; USD amounts, maintenance margin split by risk unit."""

    uni_mmr: Decimal
    account_equity: Decimal
    actual_equity: Decimal
    account_maint_margin: Decimal
    risk_units: tuple[RiskUnitMaintenance, ...]
    margin_mm: Decimal
    other_mm: Decimal
    account_status: AccountStatus | str
    account_type: AccountType | str
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(
            uni_mmr=dec(data["uniMMR"]),
            account_equity=dec(data["accountEquity"]),
            actual_equity=dec(data["actualEquity"]),
            account_maint_margin=dec(data["accountMaintMargin"]),
            risk_units=many(RiskUnitMaintenance.from_json)(data["riskUnitMMList"]),
            margin_mm=dec(data["marginMM"]),
            other_mm=dec(data["otherMM"]),
            account_status=_known(AccountStatus, data["accountStatus"]),
            account_type=_known(AccountType, data["accountType"]),
            raw=data,
        )


@attrs.frozen
class Balance:
    """One asset's balances across the margin, USDⓈ-M, COIN-M (and option) wallets.

    Fields Binance documents as possibly empty or SPAN-only are None when missing or ``""``.
    """

    asset: str
    total_wallet_balance: Decimal
    cross_margin_asset: Decimal
    cross_margin_borrowed: Decimal
    cross_margin_free: Decimal
    cross_margin_interest: Decimal
    cross_margin_locked: Decimal
    um_wallet_balance: Decimal
    um_unrealized_pnl: Decimal | None
    cm_wallet_balance: Decimal
    cm_unrealized_pnl: Decimal | None
    update_time: datetime
    negative_balance: Decimal
    option_wallet_balance: Decimal | None
    option_equity: Decimal | None
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(
            asset=text(data["asset"]),
            total_wallet_balance=dec(data["totalWalletBalance"]),
            cross_margin_asset=dec(data["crossMarginAsset"]),
            cross_margin_borrowed=dec(data["crossMarginBorrowed"]),
            cross_margin_free=dec(data["crossMarginFree"]),
            cross_margin_interest=dec(data["crossMarginInterest"]),
            cross_margin_locked=dec(data["crossMarginLocked"]),
            um_wallet_balance=dec(data["umWalletBalance"]),
            um_unrealized_pnl=opt_dec(data, "umUnrealizedPNL"),
            cm_wallet_balance=dec(data["cmWalletBalance"]),
            cm_unrealized_pnl=opt_dec(data, "cmUnrealizedPNL"),
            update_time=ms_to_datetime(data["updateTime"]),
            negative_balance=dec(data["negativeBalance"]),
            option_wallet_balance=opt_dec(data, "optionWalletBalance"),
            option_equity=opt_dec(data, "optionEquity"),
            raw=data,
        )


@attrs.frozen
class RepayRecord:
    """One bankruptcy-loan repayment."""

    asset: str
    amount: Decimal
    repay_time: datetime
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(
            asset=text(data["asset"]),
            amount=dec(data["amount"]),
            repay_time=ms_to_datetime(data["repayTime"]),
            raw=data,
        )


@attrs.frozen
class RepayHistoryPage:
    """One page of repay history: ``total`` rows match the query, ``rows`` are this page's."""

    total: int
    rows: tuple[RepayRecord, ...]
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        # Binance omits "rows" on an empty page in several SAPI history endpoints.
        rows = data.get("rows")
        return cls(
            total=integer(data["total"]),
            rows=many(RepayRecord.from_json)(rows if rows is not None else []),
            raw=data,
        )


@attrs.frozen
class InterestRecord:
    """Interest charged on a negative balance; ``interest_rate`` is a daily rate."""

    asset: str
    interest: Decimal
    interest_accrued_time: datetime
    interest_rate: Decimal
    principal: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        # PM Pro spells it "interestAccruedTime"; the retail PM page spells it "interestAccuredTime".
        accrued = _first(data, "interestAccruedTime", "interestAccuredTime")
        return cls(
            asset=text(data["asset"]),
            interest=dec(data["interest"]),
            interest_accrued_time=ms_to_datetime(accrued),
            interest_rate=dec(data["interestRate"]),
            principal=dec(data["principal"]),
            raw=data,
        )


@attrs.frozen
class BnbTransferResult:
    """Result of a BNB transfer: Binance's transaction id."""

    tran_id: int
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(tran_id=integer(data["tranId"]), raw=data)


@attrs.frozen
class AutoRepayFuturesStatus:
    """Whether futures negative balances are repaid automatically (Binance's default: on)."""

    auto_repay: bool
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(auto_repay=boolean(data["autoRepay"]), raw=data)


@attrs.frozen
class MarginCallLevel:
    """The uniMMR at which Binance sends a margin call; None when none is set (Binance sends ``{}``)."""

    level: Decimal | None
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object, got {type(data).__name__}")
        return cls(level=opt_dec(data, "marginCallLevel"), raw=data)


@attrs.frozen
class DeltaMode:
    """Whether Delta mode is on."""

    delta_enabled: bool
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(delta_enabled=boolean(data["deltaEnabled"]), raw=data)


@attrs.frozen
class EarnAssetBalance:
    """How much of an earn asset can be transferred in the asked direction."""

    asset: str
    amount: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(asset=text(data["asset"]), amount=dec(data["amount"]), raw=data)


@attrs.frozen
class AssetLeverage:
    """An asset's leverage in the Portfolio Margin account."""

    asset: str
    leverage: int
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(asset=text(data["asset"]), leverage=integer(data["leverage"]), raw=data)


@attrs.frozen
class CollateralRate:
    """The share of an asset's value that counts as collateral."""

    asset: str
    collateral_rate: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(asset=text(data["asset"]), collateral_rate=dec(data["collateralRate"]), raw=data)


@attrs.frozen
class CollateralTier:
    """One tier: holdings in ``[tier_floor, tier_cap)`` count at ``collateral_rate``.

    ``cum`` is Binance's quick-addition number for the account equity of the tiers below.
    """

    tier_floor: Decimal
    tier_cap: Decimal
    collateral_rate: Decimal
    cum: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(
            tier_floor=dec(data["tierFloor"]),
            tier_cap=dec(data["tierCap"]),
            collateral_rate=dec(data["collateralRate"]),
            cum=dec(data["cum"]),
            raw=data,
        )


@attrs.frozen
class TieredCollateralRate:
    """An asset's collateral rate by holding size (PM Pro)."""

    asset: str
    tiers: tuple[CollateralTier, ...]
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(
            asset=text(data["asset"]),
            tiers=many(CollateralTier.from_json)(data["collateralInfo"]),
            raw=data,
        )


@attrs.frozen
class AssetIndexPrice:
    """An asset's index price (in USD) at ``time``."""

    asset: str
    price: Decimal
    time: datetime
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(
            asset=text(data["asset"]),
            price=dec(data["assetIndexPrice"]),
            time=ms_to_datetime(data["time"]),
            raw=data,
        )
