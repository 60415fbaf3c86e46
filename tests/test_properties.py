"""Property tests: any valid argument combination is encoded, signed and read back exactly.

Each example goes through the real client and the simulator, whose HMAC check runs over the raw
query it received: a 200 means the bytes signed are the bytes sent. The values the simulator decoded
are then compared with the arguments by meaning (numbers as numbers, times as epoch ms), and the
parameter names must come in the documented order, before recvWindow, timestamp and signature.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binance_pm import (
    Client,
    EarnAsset,
    EarnTransferType,
    FutureType,
    RepaySource,
    TransferSide,
)
from binance_pm.testing import AccountState, FakeBinance

from ._wire import last_call

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
PM = "/sapi/v1/portfolio"
BIG = Decimal(10) ** 12
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)


class Harness:
    """One simulator and one client on a private event loop, shared by a module's examples."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        limits = {"uid_weight_limit": 10**9, "ip_weight_limit": 10**9}
        self.sim = FakeBinance(**limits)
        self.run(self.sim.start())
        self.client = Client(api_key=self.sim.api_key, api_secret=self.sim.api_secret,
                             base_url=self.sim.base_url, **limits)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def call(self, make: Callable[[Client], Coroutine[Any, Any, Any]]) -> dict[str, str]:
        """Run one call on a fresh, rich account; return the parameters the simulator decoded."""
        self.sim.state = rich_state()
        self.run(make(self.client))
        req = last_call(self.sim)
        assert req.status == 200, (req.status, req.query)
        self.last_query = req.query
        return dict(req.params)

    def close(self) -> None:
        self.run(self.client.close())
        self.run(self.sim.close())
        self.loop.close()


def rich_state() -> AccountState:
    """Enough of everything that no valid call fails for want of balance."""
    assets = ("USDT", "BTC", "ETH", "BNB", "BUSD", "LDUSDT", "RWUSD")
    wallet = dict.fromkeys(assets, BIG)
    state = AccountState(spot=dict(wallet), margin=dict(wallet), um=dict(wallet), cm=dict(wallet),
                         option=dict(wallet), earn=dict(wallet))
    state.account["accountType"] = "PM_3"  # OPTION collections need a SPAN account
    return state


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    h.close()


# -- strategies -----------------------------------------------------------------------------------

amounts = st.one_of(
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(10**9), places=8),
    st.integers(min_value=1, max_value=10**9),
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(10**9), places=8).map(str),
)
offsets = st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-23 * 60, 23 * 60))
moments = st.one_of(
    st.integers(min_value=86_400_000, max_value=4_102_444_800_000),
    st.datetimes(min_value=datetime(1970, 1, 3), max_value=datetime(2099, 12, 31),
                 timezones=offsets),
)
# Printable text, non-ASCII included: percent-encoded as UTF-8 and decoded back by the server.
assets_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                      max_size=12).filter(str.isprintable)


def members(cls: type[enum.StrEnum]) -> st.SearchStrategy[Any]:
    """An enum argument as a member or as its plain string value."""
    return st.sampled_from(list(cls)) | st.sampled_from([m.value for m in cls])


def ms(value: Any) -> int:
    return (value - EPOCH) // MS if isinstance(value, datetime) else int(value)


def same_amount(wire: str, value: Any) -> bool:
    return "E" not in wire.upper() and Decimal(wire) == Decimal(value)


def names_in_order(query: str, expected: list[str]) -> None:
    names = [k for k, _ in parse_qsl(query)]
    assert names[-3:] == ["recvWindow", "timestamp", "signature"]
    assert names[:-3] == expected


@st.composite
def time_range(draw: st.DrawFn, max_span: timedelta | None) -> tuple[Any, Any]:
    start = draw(st.none() | moments)
    end = draw(st.none() | moments)
    if start is not None and end is not None:
        lo = ms(start)
        limit = 4_102_444_800_000 if max_span is None else lo + max_span // MS
        end = draw(st.integers(min_value=lo, max_value=limit))
    return start, end


# -- one property per endpoint that takes parameters -----------------------------------------------


@SETTINGS
@given(span=time_range(timedelta(days=360)), current=st.none() | st.integers(1, 10**6),
       size=st.none() | st.integers(1, 100))
def test_repay_history_round_trip(
    harness: Harness, span: tuple[Any, Any], current: int | None, size: int | None
) -> None:
    """startTime/endTime as ms, current and size as given, in the documented order."""
    start, end = span
    got = harness.call(lambda c: c.account.repay_history(
        start=start, end=end, current=current, size=size))
    want = {"startTime": start, "endTime": end, "current": current, "size": size}
    want = {k: v for k, v in want.items() if v is not None}
    assert {k: int(v) for k, v in got.items()} == {
        k: ms(v) if k.endswith("Time") else v for k, v in want.items()}
    names_in_order(harness.last_query, list(want))


@SETTINGS
@given(asset=st.none() | assets_text, span=time_range(None), size=st.none() | st.integers(1, 100))
def test_interest_history_round_trip(
    harness: Harness, asset: str | None, span: tuple[Any, Any], size: int | None
) -> None:
    """Any printable asset (UTF-8, percent-encoded) and any valid range read back exactly."""
    start, end = span
    got = harness.call(lambda c: c.account.interest_history(
        asset=asset, start=start, end=end, size=size))
    want: dict[str, Any] = {"asset": asset, "startTime": start, "endTime": end, "size": size}
    want = {k: v for k, v in want.items() if v is not None}
    assert got == {k: str(ms(v)) if k.endswith("Time") else str(v) for k, v in want.items()}
    names_in_order(harness.last_query, list(want))


@SETTINGS
@given(asset=st.none() | assets_text)
def test_balance_round_trip(harness: Harness, asset: str | None) -> None:
    """balance(asset=) sends the asset verbatim whatever its characters."""
    got = harness.call(lambda c: c.account.balance(asset=asset))
    assert got == ({} if asset is None else {"asset": asset})


@SETTINGS
@given(amount=amounts, side=members(TransferSide))
def test_bnb_transfer_round_trip(harness: Harness, amount: Any, side: Any) -> None:
    """Any exact positive amount is sent in plain notation and equals the argument."""
    got = harness.call(lambda c: c.account.bnb_transfer(amount=amount, transfer_side=side))
    assert same_amount(got["amount"], amount) and got["transferSide"] == str(side)
    names_in_order(harness.last_query, ["amount", "transferSide"])


@SETTINGS
@given(asset=st.sampled_from(["USDT", "BTC", "ETH"]),
       part=st.none() | st.tuples(amounts, members(FutureType)))
def test_asset_collection_round_trip(harness: Harness, asset: str, part: Any) -> None:
    """asset alone, or asset with amount and futureType together."""
    amount, kind = part if part is not None else (None, None)
    got = harness.call(lambda c: c.account.asset_collection(
        asset=asset, amount=amount, future_type=kind))
    assert got["asset"] == asset
    if part is None:
        assert set(got) == {"asset"}
    else:
        assert same_amount(got["amount"], amount) and got["futureType"] == str(kind)
        names_in_order(harness.last_query, ["asset", "amount", "futureType"])


@SETTINGS
@given(asset=members(EarnAsset), kind=members(EarnTransferType), amount=amounts)
def test_earn_asset_transfer_round_trip(harness: Harness, asset: Any, kind: Any, amount: Any) -> None:
    """asset, transferType and amount, in that order."""
    got = harness.call(lambda c: c.account.earn_asset_transfer(
        asset=asset, transfer_type=kind, amount=amount))
    assert (got["asset"], got["transferType"]) == (str(asset), str(kind))
    assert same_amount(got["amount"], amount)
    names_in_order(harness.last_query, ["asset", "transferType", "amount"])


@SETTINGS
@given(kind=members(EarnTransferType), asset=st.sampled_from([EarnAsset.LDUSDT, "LDUSDT"]))
def test_earn_asset_balance_round_trip(harness: Harness, kind: Any, asset: Any) -> None:
    got = harness.call(lambda c: c.account.earn_asset_balance(transfer_type=kind, asset=asset))
    assert got == {"asset": "LDUSDT", "transferType": str(kind)}


@SETTINGS
@given(level=st.decimals(min_value=Decimal("1.1"), max_value=Decimal("2.0"), places=8)
       | st.sampled_from(["1.1", "2", "2.0", "1.50000000"]))
def test_set_margin_call_level_round_trip(harness: Harness, level: Any) -> None:
    """Any level in [1.1, 2.0] is accepted by the simulator and read back equal."""
    got = harness.call(lambda c: c.account.set_margin_call_level(level=level))
    assert same_amount(got["marginCallLevel"], level)
    assert harness.sim.state.margin_call_level == Decimal(level)


@SETTINGS
@given(flag=st.booleans(), which=st.sampled_from(["auto_repay", "delta"]))
def test_switches_round_trip(harness: Harness, flag: bool, which: str) -> None:
    """Booleans go out as true/false and flip the simulated switch."""
    if which == "auto_repay":
        got = harness.call(lambda c: c.account.set_auto_repay_futures(auto_repay=flag))
        assert got == {"autoRepay": "true" if flag else "false"}
        assert harness.sim.state.auto_repay is flag
    else:
        got = harness.call(lambda c: c.account.set_delta_mode(delta_enabled=flag))
        assert got == {"deltaEnabled": "true" if flag else "false"}
        assert harness.sim.state.delta_enabled is flag


@SETTINGS
@given(source=st.none() | members(RepaySource), negative=st.booleans())
def test_repay_calls_round_trip(harness: Harness, source: Any, negative: bool) -> None:
    """repay and repay_futures_negative_balance send from only when given."""
    if negative:
        got = harness.call(lambda c: c.account.repay_futures_negative_balance(from_=source))
    else:
        got = harness.call(lambda c: c.account.repay(from_=source))
    assert got == ({} if source is None else {"from": str(source)})


NO_PARAMS: list[Callable[[Client, int], Coroutine[Any, Any, Any]]] = [
    lambda c, rw: c.account.account_info(recv_window=rw),
    lambda c, rw: c.account.span_account_info(recv_window=rw),
    lambda c, rw: c.account.pm_loan(recv_window=rw),
    lambda c, rw: c.account.asset_leverage(recv_window=rw),
    lambda c, rw: c.account.auto_collection(recv_window=rw),
    lambda c, rw: c.account.auto_repay_futures(recv_window=rw),
    lambda c, rw: c.account.margin_call_level(recv_window=rw),
    lambda c, rw: c.account.delete_margin_call_level(recv_window=rw),
    lambda c, rw: c.account.delta_mode(recv_window=rw),
    lambda c, rw: c.market.tiered_collateral_rates(recv_window=rw),
]


@SETTINGS
# From 1 s: a recvWindow of a few ms is valid to send but expires in flight on a loaded machine
# (the simulator answers -1021, as Binance would), which is not what this test is about.
@given(index=st.integers(0, len(NO_PARAMS) - 1), recv_window=st.integers(1000, 60_000))
def test_recv_window_round_trip(harness: Harness, index: int, recv_window: int) -> None:
    """Signed calls without parameters send exactly recvWindow, timestamp, signature."""
    got = harness.call(lambda c: NO_PARAMS[index](c, recv_window))
    assert got == {}
    assert harness.last_query.startswith(f"recvWindow={recv_window}&timestamp=")


@SETTINGS
@given(asset=st.none() | st.sampled_from(["BTC", "ETH"]))
def test_asset_index_price_round_trip(harness: Harness, asset: str | None) -> None:
    """Unsigned: only the asset, if any, and the weight the simulator charged matches it."""
    before = harness.sim.used("IP", f"{PM}/asset-index-price")
    got = harness.call(lambda c: c.market.asset_index_prices(asset=asset))
    assert got == ({} if asset is None else {"asset": asset})
    assert harness.last_query == ("" if asset is None else f"asset={asset}")
    assert harness.sim.used("IP", f"{PM}/asset-index-price") - before == (50 if asset is None else 1)
