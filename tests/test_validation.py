"""Every rejected argument: ValueError/TypeError naming the parameter, and nothing sent."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from binance_pm import Client
from binance_pm.testing import FakeBinance

from ._wire import last

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
Call = Callable[[Client], Any]

# (id, call, exception, text the message must contain)
REJECTED: list[tuple[str, Call, type[Exception], str]] = [
    # balance / market assets
    ("balance-empty-asset", lambda c: c.account.balance(asset=""), ValueError, "asset"),
    ("balance-int-asset", lambda c: c.account.balance(asset=5), TypeError, "asset"),
    ("balance-control-char", lambda c: c.account.balance(asset="BT\nC"), ValueError, "asset"),
    ("index-empty-asset", lambda c: c.market.asset_index_prices(asset=""), ValueError, "asset"),
    ("unknown-kwarg", lambda c: c.account.balance(symbol="BTC"), TypeError, "symbol"),
    # closed sets
    ("repay-from", lambda c: c.account.repay(from_="WALLET"), ValueError, "from_"),
    ("negative-balance-from", lambda c: c.account.repay_futures_negative_balance(from_="spot"),
     ValueError, "from_"),
    ("bnb-side", lambda c: c.account.bnb_transfer(amount=1, transfer_side="SIDEWAYS"),
     ValueError, "transfer_side"),
    ("collection-future-type", lambda c: c.account.asset_collection(
        asset="USDT", amount=1, future_type="SPOT"), ValueError, "future_type"),
    ("earn-balance-asset", lambda c: c.account.earn_asset_balance(
        asset="RWUSD", transfer_type="EARN_TO_FUTURE"), ValueError, "asset"),
    ("earn-balance-type", lambda c: c.account.earn_asset_balance(transfer_type="BOTH"),
     ValueError, "transfer_type"),
    ("earn-transfer-asset", lambda c: c.account.earn_asset_transfer(
        asset="BTC", transfer_type="EARN_TO_FUTURE", amount=1), ValueError, "asset"),
    ("earn-transfer-type", lambda c: c.account.earn_asset_transfer(
        asset="LDUSDT", transfer_type="IN", amount=1), ValueError, "transfer_type"),
    # required parameters given as None
    ("bnb-no-side", lambda c: c.account.bnb_transfer(amount=1, transfer_side=None),
     TypeError, "transfer_side"),
    ("bnb-no-amount", lambda c: c.account.bnb_transfer(amount=None, transfer_side="TO_UM"),
     TypeError, "amount"),
    ("switch-none", lambda c: c.account.set_auto_repay_futures(auto_repay=None),
     TypeError, "auto_repay"),
    ("level-none", lambda c: c.account.set_margin_call_level(level=None), TypeError, "level"),
    # amounts
    ("bnb-zero", lambda c: c.account.bnb_transfer(amount=0, transfer_side="TO_UM"),
     ValueError, "amount"),
    ("bnb-negative", lambda c: c.account.bnb_transfer(amount=Decimal("-1"), transfer_side="TO_UM"),
     ValueError, "amount"),
    ("bnb-float", lambda c: c.account.bnb_transfer(amount=0.5, transfer_side="TO_UM"),
     TypeError, "amount"),
    ("bnb-infinite", lambda c: c.account.bnb_transfer(amount=Decimal("Infinity"),
                                                      transfer_side="TO_UM"), ValueError, "amount"),
    ("bnb-nan", lambda c: c.account.bnb_transfer(amount="NaN", transfer_side="TO_UM"),
     ValueError, "amount"),
    ("bnb-text", lambda c: c.account.bnb_transfer(amount="lots", transfer_side="TO_UM"),
     ValueError, "amount"),
    ("bnb-bool", lambda c: c.account.bnb_transfer(amount=True, transfer_side="TO_UM"),
     TypeError, "amount"),
    ("earn-zero", lambda c: c.account.earn_asset_transfer(
        asset="LDUSDT", transfer_type="EARN_TO_FUTURE", amount="0"), ValueError, "amount"),
    ("collection-zero", lambda c: c.account.asset_collection(
        asset="USDT", amount=0, future_type="UM"), ValueError, "amount"),
    # asset-collection rules
    ("collection-amount-alone", lambda c: c.account.asset_collection(asset="USDT", amount=1),
     TypeError, "future_type"),
    ("collection-type-alone", lambda c: c.account.asset_collection(asset="USDT", future_type="UM"),
     TypeError, "amount"),
    ("collection-bnb", lambda c: c.account.asset_collection(asset="BNB"), ValueError, "asset"),
    ("collection-empty-asset", lambda c: c.account.asset_collection(asset=""), ValueError, "asset"),
    # booleans
    ("switch-string", lambda c: c.account.set_auto_repay_futures(auto_repay="false"),
     TypeError, "auto_repay"),
    ("switch-int", lambda c: c.account.set_auto_repay_futures(auto_repay=0), TypeError, "auto_repay"),
    ("delta-string", lambda c: c.account.set_delta_mode(delta_enabled="true"),
     TypeError, "delta_enabled"),
    # margin call level range [1.1, 2.0]
    ("level-low", lambda c: c.account.set_margin_call_level(level=Decimal("1.09")),
     ValueError, "level"),
    ("level-high", lambda c: c.account.set_margin_call_level(level="2.0001"), ValueError, "level"),
    ("level-float", lambda c: c.account.set_margin_call_level(level=1.5), TypeError, "level"),
    # history sizes, pages, times
    ("repay-size-0", lambda c: c.account.repay_history(size=0), ValueError, "size"),
    ("repay-size-101", lambda c: c.account.repay_history(size=101), ValueError, "size"),
    ("repay-size-str", lambda c: c.account.repay_history(size="10"), TypeError, "size"),
    ("repay-current-0", lambda c: c.account.repay_history(current=0), ValueError, "current"),
    ("repay-naive-start", lambda c: c.account.repay_history(start=datetime(2024, 1, 1)),
     ValueError, "start"),
    ("repay-negative-start", lambda c: c.account.repay_history(start=-1), ValueError, "start"),
    ("repay-float-end", lambda c: c.account.repay_history(end=1.7e12), TypeError, "end"),
    ("repay-reversed", lambda c: c.account.repay_history(start=T0 + DAY, end=T0), ValueError, "start"),
    ("repay-361-days", lambda c: c.account.repay_history(start=T0, end=T0 + 361 * DAY),
     ValueError, "360 days"),
    ("repay-360-days-1ms", lambda c: c.account.repay_history(
        start=T0, end=T0 + 360 * DAY + timedelta(milliseconds=1)), ValueError, "360 days"),
    ("interest-size", lambda c: c.account.interest_history(size=101), ValueError, "size"),
    ("interest-reversed", lambda c: c.account.interest_history(start=T0 + DAY, end=T0),
     ValueError, "start"),
    ("interest-asset", lambda c: c.account.interest_history(asset=""), ValueError, "asset"),
    # iterators refuse at the call, before the first request
    ("iter-repay-reversed", lambda c: c.account.iter_repay_history(start=T0 + DAY, end=T0),
     ValueError, "start"),
    ("iter-repay-page-size", lambda c: c.account.iter_repay_history(start=T0, page_size=0),
     ValueError, "page_size"),
    ("iter-repay-naive", lambda c: c.account.iter_repay_history(start=datetime(2024, 1, 1)),
     ValueError, "start"),
    ("iter-interest-page-size", lambda c: c.account.iter_interest_history(start=T0, page_size=101),
     ValueError, "page_size"),
    ("iter-interest-asset", lambda c: c.account.iter_interest_history(start=T0, asset=""),
     ValueError, "asset"),
    # per-call options
    ("recv-window", lambda c: c.account.account_info(recv_window=60_001), ValueError, "recv_window"),
    ("recv-window-market", lambda c: c.market.tiered_collateral_rates(recv_window=0),
     ValueError, "recv_window"),
]


async def invoke(call: Call, client: Client) -> None:
    result = call(client)
    if inspect.isawaitable(result):
        await result


@pytest.mark.parametrize(("call", "exc", "text"), [r[1:] for r in REJECTED],
                         ids=[r[0] for r in REJECTED])
async def test_rejected_before_sending(
    call: Call, exc: type[Exception], text: str, client: Client, fake_binance: FakeBinance
) -> None:
    """The bad argument raises the named error and the simulator receives nothing at all."""
    with pytest.raises(exc, match=text):
        await invoke(call, client)
    assert fake_binance.requests == []


ACCEPTED: list[tuple[str, Call, str, str]] = [
    ("level-1.1", lambda c: c.account.set_margin_call_level(level=Decimal("1.1")),
     "/sapi/v1/portfolio/margin-call-level", "marginCallLevel=1.1"),
    ("level-2.0", lambda c: c.account.set_margin_call_level(level="2.0"),
     "/sapi/v1/portfolio/margin-call-level", "marginCallLevel=2"),
    ("size-1", lambda c: c.account.repay_history(size=1),
     "/sapi/v1/portfolio/pmloan-history", "size=1"),
    ("size-100", lambda c: c.account.interest_history(size=100),
     "/sapi/v1/portfolio/interest-history", "size=100"),
    ("span-360-days", lambda c: c.account.repay_history(start=T0, end=T0 + 360 * DAY),
     "/sapi/v1/portfolio/pmloan-history", f"endTime={1704067200000 + 360 * 86_400_000}"),
    ("start-equals-end", lambda c: c.account.repay_history(start=T0, end=T0),
     "/sapi/v1/portfolio/pmloan-history", "startTime=1704067200000&endTime=1704067200000"),
    ("smallest-amount", lambda c: c.account.bnb_transfer(
        amount="0.00000001", transfer_side="FROM_UM"), "/sapi/v1/portfolio/bnb-transfer",
     "amount=0.00000001&transferSide=FROM_UM"),
]


@pytest.mark.parametrize(("call", "path", "expected"), [r[1:] for r in ACCEPTED],
                         ids=[r[0] for r in ACCEPTED])
async def test_boundaries_accepted(
    call: Call, path: str, expected: str, client: Client, fake_binance: FakeBinance
) -> None:
    """Values on the edge of each allowed range are sent, and the simulator accepts them."""
    await invoke(call, client)
    req = last(fake_binance, path)
    assert expected in req.query and req.status == 200
