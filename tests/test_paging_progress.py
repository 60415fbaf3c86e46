"""History walks end when the server ignores the range or the page: a bounded number of requests.

Issue 14, item 14: against a server that answered every interest request with the same full page,
``iter_interest_history`` sent 240 identical requests (the endpoint's whole IP budget) and yielded
nothing. The servers here are the simulator on 127.0.0.1 answering a fixed page through the whole
stack (signature, weights, headers), which is what a server or caching proxy that ignores
``startTime``/``endTime`` or ``current`` looks like from the client. Each fixed answer is limited
to a few requests, after which the simulator answers honestly (an empty history): a walk without
the progress check then ends normally and the test fails instead of hanging.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from binance_pm import Client, InterestRecord, InvalidResponseError, RepayRecord
from binance_pm.testing import FakeBinance, Fault

DAY = 86_400_000
T0 = 1704067200000  # 2024-01-01T00:00:00Z
REPAY = "/sapi/v1/portfolio/pmloan-history"
INTEREST = "/sapi/v1/portfolio/interest-history"
PAGE = 5


def sent(sim: FakeBinance, path: str) -> list[dict[str, str]]:
    return [dict(parse_qsl(r.query)) for r in sim.requests if r.path == path]


def interest_page(times: list[int]) -> str:
    return json.dumps([{"asset": "USDT", "interest": "0.5", "interestAccruedTime": t,
                        "interestRate": "0.0001", "principal": "1000"} for t in times])


async def walk_interest(client: Client, start: int, end: int) -> list[InterestRecord]:
    rows: list[InterestRecord] = []
    async for row in client.account.iter_interest_history(start=start, end=end, page_size=PAGE):
        rows.append(row)
    return rows


async def walk_repay(client: Client, start: int, end: int) -> list[RepayRecord]:
    rows: list[RepayRecord] = []
    async for row in client.account.iter_repay_history(start=start, end=end, page_size=PAGE):
        rows.append(row)
    return rows


@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest-first", "newest-first"])
async def test_interest_walk_stops_when_the_range_is_ignored(
    newest_first: bool, client: Client, sim: FakeBinance
) -> None:
    """The same full page whatever range is asked: InvalidResponseError on the second request.

    The first page narrows the range (it is inside it); the second, identical, leaves the range
    where it was, which would repeat for ever.
    """
    times = [T0 + DAY + i * 60_000 for i in range(PAGE)]
    if newest_first:
        times.reverse()
    sim.inject(Fault.status_code(200, body=interest_page(times), path=INTEREST, times=50))
    with pytest.raises(InvalidResponseError, match="ignored the time range"):
        await walk_interest(client, T0, T0 + 10 * DAY)
    params = sent(sim, INTEREST)
    assert len(params) == 2
    assert params[0]["startTime"] == str(T0) and params[0]["endTime"] == str(T0 + 10 * DAY)


@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest-first", "newest-first"])
async def test_interest_walk_stops_on_a_page_outside_the_range(
    newest_first: bool, client: Client, sim: FakeBinance
) -> None:
    """A full page from before the asked range (a stale cache) leaves nothing sane to ask next:
    InvalidResponseError after that one request, nothing yielded."""
    times = [T0 + i * 60_000 for i in range(PAGE)]
    if newest_first:
        times.reverse()
    sim.inject(Fault.status_code(200, body=interest_page(times), path=INTEREST, times=50))
    with pytest.raises(InvalidResponseError, match="ignored the time range"):
        await walk_interest(client, T0 + 40 * DAY, T0 + 45 * DAY)
    assert len(sent(sim, INTEREST)) == 1


async def test_repay_walk_stops_when_the_page_number_is_ignored(
    client: Client, sim: FakeBinance
) -> None:
    """Page 1 again for ``current=2`` with a total of a million rows: InvalidResponseError on the
    second request, instead of 200,000 requests (IP weight 500 each) of the same five rows."""
    rows = [{"asset": "USDT", "amount": str(i + 1), "repayTime": T0 + i * 1000} for i in range(PAGE)]
    body = json.dumps({"total": 1_000_000, "rows": rows})
    sim.inject(Fault.status_code(200, body=body, path=REPAY, times=10))
    with pytest.raises(InvalidResponseError, match="ignored the page number"):
        await walk_repay(client, T0, T0 + DAY)
    assert [p["current"] for p in sent(sim, REPAY)] == ["1", "2"]


async def test_repay_walk_with_progress_is_unaffected(client: Client, sim: FakeBinance) -> None:
    """The check does not trip on honest paging: 12 rows over three pages, each read once."""
    rows = [{"asset": "USDT", "amount": str(i + 1), "repayTime": T0 + i * 1000} for i in range(12)]
    for page in (rows[:5], rows[5:10], rows[10:]):
        sim.inject(Fault.status_code(200, body=json.dumps({"total": 12, "rows": page}), path=REPAY))
    got = await walk_repay(client, T0, T0 + DAY)
    assert [r.amount for r in got] == [i + 1 for i in range(12)]
    assert [p["current"] for p in sent(sim, REPAY)] == ["1", "2", "3"]
