"""Response models: frozen attrs classes with Decimal amounts, UTC datetimes and int ids.

Each has ``from_json`` for the success path and keeps the whole response in ``raw``, so fields
Binance adds later stay reachable. There is no validation layer, only two failures the session
turns into an error naming the endpoint and the field: a missing field raises ``KeyError``, and a
present but unusable one (``null``, ``""``, the wrong type, not a number) raises
:class:`FieldError`, whose ``field`` is a path such as ``riskUnitMMList[0].uniMaintainUsd``.
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
    "FieldError",
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
    "field",
    "integer",
    "known",
    "many",
    "ms_to_datetime",
    "opt_dec",
    "text",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.StrEnum)


class FieldError(ValueError):
    """A response field that is present but unusable; ``field`` is its path in the response.

    A ``ValueError``, so a session that knows only the built-in errors still reports it, with the
    field in the text; ``field`` and ``reason`` let it name the field in its own words.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"field {field!r}: {reason}")
        self.field = field
        self.reason = reason


def _kind(value: object) -> str:
    """A value's JSON type, for messages: ``null`` rather than ``NoneType``."""
    if value is None:
        return "null"
    if value == "":
        return 'an empty string ""'
    return {bool: "a bool", str: "a string", int: "an integer", list: "an array",
            dict: "an object", Decimal: "a number"}.get(type(value), type(value).__name__)


def field(data: Any, key: str | int, parse: Callable[[Any], T]) -> T:
    """``parse(data[key])``: a missing key raises KeyError, an unusable value FieldError(key).

    ``key`` is an object's field name or an array's index.
    """
    value = data[key]
    try:
        return parse(value)
    except FieldError as err:  # inside a nested object or array: extend the path
        sep = "" if err.field.startswith("[") else "."
        raise FieldError(f"{_path(key)}{sep}{err.field}", err.reason) from err
    except (TypeError, ValueError, ArithmeticError) as err:
        raise FieldError(_path(key), str(err)) from err


def _path(key: str | int) -> str:
    return f"[{key}]" if isinstance(key, int) else key


def dec(value: object) -> Decimal:
    """An amount from Binance: a string (thousands separators tolerated) or an exact JSON number.

    NaN and infinities are refused: a model never carries an amount that is not a number.
    """
    if isinstance(value, str) and value:
        try:
            d = Decimal(value.replace(",", "") if "," in value else value)
        except ArithmeticError:  # decimal.InvalidOperation
            raise ValueError(f"expected a decimal string, got {value[:40]!r}") from None
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        d = Decimal(value)
    else:
        raise TypeError(f"expected a decimal string, got {_kind(value)}")
    if not d.is_finite():
        raise ValueError(f"amount is not a finite number: {value!r}")
    return d


def text(value: object) -> str:
    """A required string field: anything else, ``""`` included, is a malformed answer."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"expected a non-empty string, got {_kind(value)}")
    return value


def opt_dec(data: Mapping[str, Any], key: str) -> Decimal | None:
    """An amount Binance may leave out or send as ``""`` (e.g. ``cmUnrealizedPNL``): None then."""
    value = data.get(key)
    if value is None or value == "":
        return None
    return field(data, key, dec)


def integer(value: object) -> int:
    """An id or count: a JSON integer or a string of digits (never via float: ids exceed 2**53)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected an integer, got {_kind(value)}")
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        raise ValueError(f"expected an integer, got {value[:40]!r}")
    return int(value)


def boolean(value: object) -> bool:
    """A JSON bool; the strings ``"true"``/``"false"`` are tolerated, nothing else is coerced."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise TypeError(f"expected a bool, got {_kind(value)}")


def known(cls: type[E]) -> Callable[[object], E | str]:
    """A parser giving a member of ``cls`` for a known value; a new value stays a plain str."""

    def parse(value: object) -> E | str:
        raw = text(value)
        try:
            return cls(raw)
        except ValueError:
            return raw

    return parse


def _rows(data: Any) -> list[Any]:
    # A list endpoint asked about one asset may answer with the bare object.
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise TypeError(f"expected a JSON array, got {_kind(data)}")
    return data


def _first(data: Mapping[str, Any], *keys: str) -> str:
    """The first present key of several spellings; KeyError names the documented one."""
    for key in keys:
        if key in data:
            return key
    raise KeyError(keys[0])


def many(parse: Callable[[Any], T]) -> Callable[[Any], tuple[T, ...]]:
    """A parser for a JSON array whose items ``parse`` reads; errors name the item's index."""

    def parse_all(data: Any) -> tuple[T, ...]:
        return tuple(field(rows, i, parse) for rows in (_rows(data),) for i in range(len(rows)))

    return parse_all


def ms_to_datetime(value: object) -> datetime:
    """Epoch milliseconds -> aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected integer milliseconds, got {_kind(value)}")
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"milliseconds out of range: {value}") from None


@attrs.frozen
class PmLoan:
    """Portfolio Margin Pro bankruptcy loan: ``amount`` is ``Decimal(0)`` when there is none."""

    asset: str
    amount: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(asset=field(data, "asset", text), amount=field(data, "amount", dec), raw=data)


@attrs.frozen
class RepayResult:
    """Result of a bankruptcy-loan repayment: Binance's transaction id (may exceed 2**53)."""

    tran_id: int
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(tran_id=field(data, "tranId", integer), raw=data)


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
        return cls(msg=field(data, "msg", text), raw=data)


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
            uni_mmr=field(data, "uniMMR", dec),
            account_equity=field(data, "accountEquity", dec),
            actual_equity=field(data, "actualEquity", dec),
            account_maint_margin=field(data, "accountMaintMargin", dec),
            account_initial_margin=opt_dec(data, "accountInitialMargin"),
            total_available_balance=opt_dec(data, "totalAvailableBalance"),
            account_status=field(data, "accountStatus", known(AccountStatus)),
            account_type=field(data, "accountType", known(AccountType)),
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
        return cls(
            asset=field(data, "asset", text),
            uni_maintain_usd=field(data, "uniMaintainUsd", dec),
            raw=data,
        )


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
            uni_mmr=field(data, "uniMMR", dec),
            account_equity=field(data, "accountEquity", dec),
            actual_equity=field(data, "actualEquity", dec),
            account_maint_margin=field(data, "accountMaintMargin", dec),
            risk_units=field(data, "riskUnitMMList", many(RiskUnitMaintenance.from_json)),
            margin_mm=field(data, "marginMM", dec),
            other_mm=field(data, "otherMM", dec),
            account_status=field(data, "accountStatus", known(AccountStatus)),
            account_type=field(data, "accountType", known(AccountType)),
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
            asset=field(data, "asset", text),
            total_wallet_balance=field(data, "totalWalletBalance", dec),
            cross_margin_asset=field(data, "crossMarginAsset", dec),
            cross_margin_borrowed=field(data, "crossMarginBorrowed", dec),
            cross_margin_free=field(data, "crossMarginFree", dec),
            cross_margin_interest=field(data, "crossMarginInterest", dec),
            cross_margin_locked=field(data, "crossMarginLocked", dec),
            um_wallet_balance=field(data, "umWalletBalance", dec),
            um_unrealized_pnl=opt_dec(data, "umUnrealizedPNL"),
            cm_wallet_balance=field(data, "cmWalletBalance", dec),
            cm_unrealized_pnl=opt_dec(data, "cmUnrealizedPNL"),
            update_time=field(data, "updateTime", ms_to_datetime),
            negative_balance=field(data, "negativeBalance", dec),
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
            asset=field(data, "asset", text),
            amount=field(data, "amount", dec),
            repay_time=field(data, "repayTime", ms_to_datetime),
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
        # Binance omits "rows" on an empty page in several SAPI history endpoints; when "total"
        # says rows exist, a page without them is a broken answer, not an empty page.
        total = field(data, "total", integer)
        if data.get("rows") is None:
            if total > 0:
                raise FieldError("rows", f"absent or null while total is {total}")
            return cls(total=total, rows=(), raw=data)
        return cls(total=total, rows=field(data, "rows", many(RepayRecord.from_json)), raw=data)


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
            asset=field(data, "asset", text),
            interest=field(data, "interest", dec),
            interest_accrued_time=field(data, accrued, ms_to_datetime),
            interest_rate=field(data, "interestRate", dec),
            principal=field(data, "principal", dec),
            raw=data,
        )


@attrs.frozen
class BnbTransferResult:
    """Result of a BNB transfer: Binance's transaction id."""

    tran_id: int
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(tran_id=field(data, "tranId", integer), raw=data)


@attrs.frozen
class AutoRepayFuturesStatus:
    """Whether futures negative balances are repaid automatically (Binance's default: on)."""

    auto_repay: bool
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(auto_repay=field(data, "autoRepay", boolean), raw=data)


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
        return cls(delta_enabled=field(data, "deltaEnabled", boolean), raw=data)


@attrs.frozen
class EarnAssetBalance:
    """How much of an earn asset can be transferred in the asked direction."""

    asset: str
    amount: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(asset=field(data, "asset", text), amount=field(data, "amount", dec), raw=data)


@attrs.frozen
class AssetLeverage:
    """An asset's leverage in the Portfolio Margin account."""

    asset: str
    leverage: int
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(asset=field(data, "asset", text), leverage=field(data, "leverage", integer), raw=data)


@attrs.frozen
class CollateralRate:
    """The share of an asset's value that counts as collateral."""

    asset: str
    collateral_rate: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Self:
        return cls(
            asset=field(data, "asset", text),
            collateral_rate=field(data, "collateralRate", dec),
            raw=data,
        )


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
            tier_floor=field(data, "tierFloor", dec),
            tier_cap=field(data, "tierCap", dec),
            collateral_rate=field(data, "collateralRate", dec),
            cum=field(data, "cum", dec),
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
            asset=field(data, "asset", text),
            tiers=field(data, "collateralInfo", many(CollateralTier.from_json)),
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
            asset=field(data, "asset", text),
            price=field(data, "assetIndexPrice", dec),
            time=field(data, "time", ms_to_datetime),
            raw=data,
        )
