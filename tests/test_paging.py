"""History iterators across windows and pages: every row once, oldest first, within Binance's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from urllib.parse import parse_qsl

import pytest

from binance_pm import Client, InvalidResponseError, WeightKind
from binance_pm._paging import windows
from binance_pm.testing import FakeBinance, Fault

DAY = 86_400_000
T0 = 1704067200000  # 2024-01-01T00:00:00Z
REPAY = "/sapi/v1/portfolio/pmloan-history"
INTEREST = "/sapi/v1/portfolio/interest-history"


def sent(sim: FakeBinance, path: str) -> list[dict[str, str]]:
    return [dict(parse_qsl(r.query)) for r in sim.requests if r.path == path]


def span(params: dict[str, str]) -> int:
    return int(params["endTime"]) - int(params["startTime"])


def at(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@pytest.mark.parametrize(("start", "end", "width"), [
    (0, 10, 3), (0, 9, 3), (5, 5, 3), (0, 1, 100), (T0, T0 + 800 * DAY, 360 * DAY),
])
def test_windows_cover_the_range(start: int, end: int, width: int) -> None:
    """Windows start at start, end at end, share boundaries, and none is wider than allowed."""
    got = list(windows(start, end, width))
    assert got[0][0] == start and got[-1][1] == end
    assert all(0 <= hi - lo <= width for lo, hi in got)
    assert all(a[1] == b[0] for a, b in pairwise(got))


# -- repay history ------------------------------------------------------------------------------


async def test_iter_repay_history_windows_and_pages(client: Client, fake_binance: FakeBinance) -> None:
    """800 days: three windows of <= 360 days, 250 rows in one window over three pages.

    Rows sit exactly on both window boundaries (which two windows both return) and on the range
    edges; every row comes out once, oldest first.
    """
    times = [T0, T0 + 360 * DAY, T0 + 720 * DAY, T0 + 800 * DAY]  # edges and boundaries
    times += [T0 + 100 * DAY + i * 60_000 for i in range(250)]  # one busy window
    times += [T0 + d * DAY + 123 for d in range(361, 800, 7)]
    fake_binance.state.repay_history[:] = [("USDT", Decimal(i + 1), t) for i, t in enumerate(times)]
    rows = [r async for r in client.account.iter_repay_history(start=T0, end=T0 + 800 * DAY)]

    assert [r.repay_time for r in rows] == [at(t) for t in sorted(times)]
    assert len({(r.amount, r.repay_time) for r in rows}) == len(times)  # no duplicates
    params = sent(fake_binance, REPAY)
    assert all(span(p) <= 360 * DAY for p in params)
    assert {p["size"] for p in params} == {"100"}
    first_window = [p["current"] for p in params if p["startTime"] == str(T0)]
    assert first_window == ["1", "2", "3"]
    assert len({(p["startTime"], p["endTime"]) for p in params}) == 3
    used = {u.key: u.used for u in client.weights.for_kind(WeightKind.IP)}
    assert used[f"IP:{REPAY}"] == 500 * len(params)  # through the session's weight books


async def test_iter_repay_history_page_size_and_default_end(
    client: Client, fake_binance: FakeBinance
) -> None:
    """A small page size pages more; without end the walk stops at the server's now."""
    now = fake_binance.now_ms()
    times = [now - DAY * 10 + i * 1000 for i in range(23)]
    fake_binance.state.repay_history[:] = [("BUSD", Decimal("1.5"), t) for t in times]
    rows = [r async for r in client.account.iter_repay_history(start=now - DAY * 30, page_size=5)]
    assert [r.repay_time for r in rows] == [at(t) for t in times]
    assert [p["current"] for p in sent(fake_binance, REPAY)] == ["1", "2", "3", "4", "5"]


async def test_iter_repay_history_empty(client: Client, fake_binance: FakeBinance) -> None:
    """No rows: one request per window, nothing yielded."""
    rows = [r async for r in client.account.iter_repay_history(start=T0, end=T0 + 400 * DAY)]
    assert rows == [] and len(sent(fake_binance, REPAY)) == 2


# -- interest history ---------------------------------------------------------------------------


def seed_interest(sim: FakeBinance, days: int, per_day: int, assets: tuple[str, ...]) -> list[int]:
    step = DAY // per_day
    times = [T0 + i * step for i in range(days * per_day + 1)]
    sim.state.interest_history[:] = [
        (asset, Decimal("0.5"), t, Decimal("0.0001164"), Decimal("1000"))
        for t in times for asset in assets
    ]
    return times


@pytest.mark.parametrize("newest_first", [True, False])
async def test_iter_interest_history_every_row_once(
    newest_first: bool, client: Client, fake_binance: FakeBinance
) -> None:
    """75 days, 3 assets per instant, pages of 20: every row once, oldest first, either order.

    Full pages make the walk narrow the range by interestAccruedTime (backwards for newest-first
    answers, forwards for oldest-first ones); instants re-read at a page or window edge are not
    repeated.
    """
    fake_binance.state.interest_newest_first = newest_first
    times = seed_interest(fake_binance, days=75, per_day=3, assets=("BTC", "ETH", "USDT"))
    rows = [r async for r in client.account.iter_interest_history(
        start=T0, end=T0 + 75 * DAY, page_size=20)]

    expected = [(at(t), a) for t in times for a in ("BTC", "ETH", "USDT")]
    assert sorted((r.interest_accrued_time, r.asset) for r in rows) == expected
    assert len(rows) == len(expected)
    stamps = [r.interest_accrued_time for r in rows]
    assert stamps == sorted(stamps)
    params = sent(fake_binance, INTEREST)
    assert all(span(p) <= 30 * DAY for p in params)
    assert len(params) > 3 * 2  # several narrowing requests per window


async def test_iter_interest_history_asset_filter(client: Client, fake_binance: FakeBinance) -> None:
    """asset= is sent on every request and only that asset comes back."""
    seed_interest(fake_binance, days=5, per_day=24, assets=("BTC", "USDT"))
    rows = [r async for r in client.account.iter_interest_history(
        start=T0, end=T0 + 5 * DAY, asset="USDT", page_size=50)]
    assert len(rows) == 5 * 24 + 1 and {r.asset for r in rows} == {"USDT"}
    assert all(p["asset"] == "USDT" for p in sent(fake_binance, INTEREST))


async def test_iter_interest_history_too_many_at_one_instant(
    client: Client, fake_binance: FakeBinance
) -> None:
    """More rows at one instant than a page holds cannot be walked: a clear error, no loop."""
    seed_interest(fake_binance, days=0, per_day=1, assets=("A", "B", "C"))
    with pytest.raises(RuntimeError, match="asset="):
        _ = [r async for r in client.account.iter_interest_history(
            start=T0, end=T0 + DAY, page_size=2)]


async def test_iter_interest_history_unordered_full_page(client: Client, fake_binance: FakeBinance) -> None:
    """A full page in no time order could hide a gap: InvalidResponseError instead."""
    body = [{"asset": "USDT", "interest": "1", "interestAccruedTime": T0 + t,
             "interestRate": "0.1", "principal": "1"} for t in (5, 1, 9)]
    fake_binance.inject(Fault.status_code(200, body=json.dumps(body), path=INTEREST))
    with pytest.raises(InvalidResponseError, match="time order"):
        _ = [r async for r in client.account.iter_interest_history(
            start=T0, end=T0 + DAY, page_size=3)]


async def test_iterators_are_lazy(client: Client, fake_binance: FakeBinance) -> None:
    """Creating an iterator sends nothing; the first row costs one request."""
    fake_binance.state.repay_history[:] = [("USDT", Decimal(1), T0 + 1)]
    walk = client.account.iter_repay_history(start=T0, end=T0 + 10)
    assert fake_binance.requests == []
    first = await anext(walk)
    assert first.amount == 1
    assert len(sent(fake_binance, REPAY)) == 1
    await walk.aclose()
