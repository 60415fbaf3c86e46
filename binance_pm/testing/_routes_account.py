"""Simulated account endpoints: balances, history, collection, transfers, switches, levels.

Parameter checks answer as Binance does: the server already refuses unknown (-1104) and missing
required (-1102) parameters from the route declaration; handlers add -1100 for a malformed number,
-1130 for a value outside its set or range, -1128 for a bad combination, -1127 for too long a range.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ._routes import amount, one_of, route
from ._state import AccountState, SimError

DAY_MS = 86_400_000
_ZERO = Decimal(0)
_PM = "/sapi/v1/portfolio"


def _f(value: Decimal) -> str:
    return format(value, "f")


def invalid(name: str) -> SimError:
    return SimError(-1130, f"Data sent for parameter '{name}' is not valid.")


def long_param(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 20:
        raise SimError(-1100, f"Illegal characters found in parameter '{name}'; legal range is "
                       "'^[0-9]{1,20}$'.")
    return int(value)


def bounded(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = long_param(params, name)
    if value is None:
        return default
    if not low <= value <= high:
        raise invalid(name)
    return value


def flag_param(params: Mapping[str, str], name: str) -> bool:
    value = params[name]
    if value not in ("true", "false"):
        raise invalid(name)
    return value == "true"


def precise_amount(params: Mapping[str, str], name: str) -> Decimal:
    """A positive amount with at most 8 decimals (Binance answers -1111 beyond an asset's precision)."""
    value = amount(params, name)
    if -value.as_tuple().exponent > 8:  # type: ignore[operator]  # finite: exponent is an int
        raise SimError(-1111, "Precision is over the maximum defined for this asset.")
    return value


def move(src: dict[str, Decimal], dst: dict[str, Decimal], asset: str, qty: Decimal) -> None:
    have = src.get(asset, _ZERO)
    if qty > have:
        raise SimError(-5002, "Insufficient balance.")  # code for PM Pro transfers: unconfirmed
    src[asset] = have - qty
    dst[asset] = dst.get(asset, _ZERO) + qty


def time_range(
    params: Mapping[str, str], now: int, *, default_days: int, max_days: int | None
) -> tuple[int, int]:
    """Binance's rule: neither bound -> the last ``default_days``; one -> that many days from it."""
    start, end = long_param(params, "startTime"), long_param(params, "endTime")
    span = default_days * DAY_MS
    if start is None and end is None:
        start, end = now - span, now
    elif end is None:
        assert start is not None
        end = start + span
    elif start is None:
        start = end - span
    if start > end:
        raise invalid("startTime")
    if max_days is not None and end - start > max_days * DAY_MS:
        raise SimError(-1127, f"More than {max_days * 24} hours between startTime and endTime.")
    return start, end


def _ack() -> dict[str, str]:
    return {"msg": "success"}


# -- account and balances ---------------------------------------------------------------------


@route("GET", f"{_PM}/account", "UID", 5)
def account_info(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return dict(state.account)


@route("GET", "/sapi/v2/portfolio/account", "IP", 5)
def span_account_info(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return dict(state.span_account)


def _balance_row(state: AccountState, asset: str, now: int) -> dict[str, Any]:
    free = state.margin.get(asset, _ZERO)
    borrowed = state.borrowed.get(asset, _ZERO)
    um, cm = state.um.get(asset, _ZERO), state.cm.get(asset, _ZERO)
    option = state.option.get(asset, _ZERO)
    negative = -sum((b for b in (um, cm) if b < 0), _ZERO)
    return {
        "asset": asset, "totalWalletBalance": _f(free + um + cm), "crossMarginAsset": _f(free),
        "crossMarginBorrowed": _f(borrowed), "crossMarginFree": _f(free),
        "crossMarginInterest": "0", "crossMarginLocked": "0", "umWalletBalance": _f(um),
        "umUnrealizedPNL": "0", "cmWalletBalance": _f(cm), "cmUnrealizedPNL": "0",
        "updateTime": now, "negativeBalance": _f(negative), "optionWalletBalance": _f(option),
        "optionEquity": _f(option),
    }


@route("GET", f"{_PM}/balance", "IP", 20, params=("asset",))
def balance(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    wanted = params.get("asset")
    assets = [a for a in state.assets() if wanted is None or a == wanted]
    return [_balance_row(state, a, now) for a in assets]


@route("GET", f"{_PM}/margin-asset-leverage", "IP", 50)
def asset_leverage(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return [{"asset": a, "leverage": n} for a, n in state.leverage.items()]


# -- history ----------------------------------------------------------------------------------------


@route("GET", f"{_PM}/pmloan-history", "IP", 500,
       params=("startTime", "endTime", "current", "size"))
def repay_history(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    start, end = time_range(params, now, default_days=30, max_days=360)
    current = bounded(params, "current", 1, 1, 2**31 - 1)
    size = bounded(params, "size", 10, 1, 100)
    rows = sorted((r for r in state.repay_history if start <= r[2] <= end),
                  key=lambda r: r[2], reverse=True)
    page = rows[(current - 1) * size: current * size]
    return {"total": len(rows),
            "rows": [{"asset": a, "amount": _f(q), "repayTime": t} for a, q, t in page]}


@route("GET", f"{_PM}/interest-history", "IP", 50,
       params=("asset", "startTime", "endTime", "size"))
def interest_history(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    # Defaults as the retail PM docs give them (7 days); PM Pro's are unconfirmed, no range cap.
    start, end = time_range(params, now, default_days=7, max_days=None)
    if "startTime" in params and "endTime" not in params:
        end = min(now, start + 30 * DAY_MS)
    size = bounded(params, "size", 10, 1, 100)
    asset = params.get("asset")
    rows = sorted((r for r in state.interest_history
                   if start <= r[2] <= end and (asset is None or r[0] == asset)),
                  key=lambda r: r[2], reverse=state.interest_newest_first)
    return [{"asset": a, "interest": _f(i), "interestAccruedTime": t, "interestRate": _f(rate),
             "principal": _f(p)} for a, i, t, rate, p in rows[:size]]


# -- collection and transfers -----------------------------------------------------------------------


@route("POST", f"{_PM}/auto-collection", "IP", 1500, executes=True)
def auto_collection(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    for wallet, skip in ((state.um, "BNB"), (state.cm, None), (state.option, None)):
        for asset, qty in list(wallet.items()):
            if qty > 0 and asset != skip:
                move(wallet, state.margin, asset, qty)
    return _ack()


@route("POST", f"{_PM}/asset-collection", "IP", 60, executes=True,
       params=("asset", "amount", "futureType"), required=("asset",))
def asset_collection(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    asset = params["asset"]
    if asset == "BNB":
        raise invalid("asset")
    if ("amount" in params) != ("futureType" in params):
        raise SimError(-1128, "Combination of optional parameters invalid.")
    if "amount" not in params:
        for wallet in (state.um, state.cm, state.option):
            if wallet.get(asset, _ZERO) > 0:
                move(wallet, state.margin, asset, wallet[asset])
        return _ack()
    qty = precise_amount(params, "amount")
    kind = one_of(params, "futureType", ("UM", "CM", "OPTION"), "")
    if kind == "OPTION" and state.account.get("accountType") != "PM_3":
        raise invalid("futureType")  # OPTION wallets exist on PM Pro SPAN accounts only
    move({"UM": state.um, "CM": state.cm, "OPTION": state.option}[kind], state.margin, asset, qty)
    return _ack()


@route("POST", f"{_PM}/bnb-transfer", "IP", 1500, executes=True,
       params=("amount", "transferSide"), required=("amount", "transferSide"))
def bnb_transfer(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    qty = precise_amount(params, "amount")
    side = one_of(params, "transferSide", ("TO_UM", "FROM_UM"), "")
    if side == "TO_UM":
        move(state.margin, state.um, "BNB", qty)
    else:
        move(state.um, state.margin, "BNB", qty)
    return {"tranId": state.next_tran_id()}


@route("GET", f"{_PM}/earn-asset-balance", "IP", 1500,
       params=("asset", "transferType"), required=("asset", "transferType"))
def earn_asset_balance(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    asset = one_of(params, "asset", ("LDUSDT",), "")
    kind = one_of(params, "transferType", ("EARN_TO_FUTURE", "FUTURE_TO_EARN"), "")
    source = state.earn if kind == "EARN_TO_FUTURE" else state.um
    return {"asset": asset, "amount": _f(max(source.get(asset, _ZERO), _ZERO))}


@route("POST", f"{_PM}/earn-asset-transfer", "UID", 1500, executes=True,
       params=("asset", "transferType", "amount"), required=("asset", "transferType", "amount"))
def earn_asset_transfer(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    asset = one_of(params, "asset", ("LDUSDT", "RWUSD"), "")
    kind = one_of(params, "transferType", ("EARN_TO_FUTURE", "FUTURE_TO_EARN"), "")
    qty = precise_amount(params, "amount")
    if kind == "EARN_TO_FUTURE":
        move(state.earn, state.um, asset, qty)
    else:
        move(state.um, state.earn, asset, qty)
    return _ack()


# -- futures negative balance -------------------------------------------------------------------------


@route("GET", f"{_PM}/repay-futures-switch", "IP", 30)
def auto_repay_futures(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return {"autoRepay": state.auto_repay}


@route("POST", f"{_PM}/repay-futures-switch", "IP", 1500, executes=True,
       params=("autoRepay",), required=("autoRepay",))
def set_auto_repay_futures(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    state.auto_repay = flag_param(params, "autoRepay")
    return _ack()


@route("POST", f"{_PM}/repay-futures-negative-balance", "IP", 1500, executes=True,
       params=("from",))
def repay_futures_negative_balance(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    source = one_of(params, "from", ("SPOT", "MARGIN"), "SPOT")
    wallet = state.spot if source == "SPOT" else state.margin
    for futures in (state.um, state.cm):
        for asset, qty in list(futures.items()):
            if qty < 0:
                move(wallet, futures, asset, -qty)
    return _ack()


# -- margin call level and delta mode -------------------------------------------------------------------


@route("GET", f"{_PM}/margin-call-level", "IP", 1500)
def margin_call_level(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    level = state.margin_call_level
    return {} if level is None else {"marginCallLevel": _f(level)}


@route("POST", f"{_PM}/margin-call-level", "IP", 1500, executes=True,
       params=("marginCallLevel",), required=("marginCallLevel",))
def set_margin_call_level(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    level = amount(params, "marginCallLevel")
    if not Decimal("1.1") <= level <= Decimal("2.0"):
        raise invalid("marginCallLevel")
    state.margin_call_level = level
    return {"marginCallLevel": _f(level)}


@route("DELETE", f"{_PM}/margin-call-level", "IP", 1500, executes=True)
def delete_margin_call_level(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    state.margin_call_level = None
    return _ack()


@route("GET", f"{_PM}/delta-mode", "IP", 1500)
def delta_mode(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return {"deltaEnabled": state.delta_enabled}


@route("POST", f"{_PM}/delta-mode", "IP", 1500, executes=True,
       params=("deltaEnabled",), required=("deltaEnabled",))
def set_delta_mode(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    state.delta_enabled = flag_param(params, "deltaEnabled")
    return _ack()


# -- removed: BFUSD mint and redeem ---------------------------------------------------------------
# Binance answers -21015 ENDPOINT_GONE since the BFUSD migration (2025-11); clients such as ccxt and
# python-binance still offer both calls. Weight 1500 as documented; its kind was never stated
# (IP here), nor the HTTP status of the answer (400 here).

_BFUSD_PARAMS = ("fromAsset", "targetAsset", "amount")


@route("POST", f"{_PM}/mint", "IP", 1500, params=_BFUSD_PARAMS)
@route("POST", f"{_PM}/redeem", "IP", 1500, params=_BFUSD_PARAMS)
def endpoint_gone(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    raise SimError(-21015, "This endpoint has been removed.")
