"""Connection slots: never more than pool_size in flight, and a wait for one is bounded."""

from __future__ import annotations

import asyncio

import pytest

from binance_pm import TransportError
from binance_pm.testing import FakeBinance, Fault

from .conftest import ClientFactory

PM_LOAN = "/sapi/v1/portfolio/pmLoan"


async def test_client_never_has_more_than_pool_size_in_flight(
    make_client: ClientFactory, sim: FakeBinance
) -> None:
    """pool_size=2 and six slow calls: two at a time, and the queued four hold no weight yet."""
    client = make_client(pool_size=2)
    await client.account.pm_loan()
    sim.inject(Fault.latency(0.3, path=PM_LOAN, times=None))
    calls = asyncio.gather(*(client.account.pm_loan() for _ in range(6)))
    await asyncio.sleep(0.1)
    (bucket,) = [b for b in client.weights.buckets if b.key.endswith(PM_LOAN)]
    assert bucket.used == 3 * 500  # the first call and the two in flight
    await calls
    arrivals = sorted(r.server_ms for r in sim.requests if r.path == PM_LOAN)[1:]
    waves = [arrivals[i + 2] - arrivals[i] for i in range(len(arrivals) - 2)]
    assert len(arrivals) == 6 and min(waves) >= 250, arrivals


async def test_wait_for_a_slot_is_bounded_by_timeout(
    make_client: ClientFactory, sim: FakeBinance
) -> None:
    """With every slot held by slow calls, a call with timeout=0.3 gives up after ~0.3 s, unsent."""
    client = make_client(pool_size=1)
    await client.account.pm_loan()
    sim.inject(Fault.latency(0.8, path=PM_LOAN))
    slow = asyncio.create_task(client.account.pm_loan())
    await asyncio.sleep(0.1)
    started = asyncio.get_running_loop().time()
    with pytest.raises(TransportError, match="no free connection slot"):
        await client.account.account_info(timeout=0.3)
    assert asyncio.get_running_loop().time() - started < 0.7
    assert not any(r.path.endswith("/account") for r in sim.requests)
    await slow


async def test_calls_waiting_for_weight_hold_no_slot(
    make_client: ClientFactory, sim: FakeBinance
) -> None:
    """pool_size=1 and a pm_loan waiting for its window to roll: account_info still goes at once."""
    client = make_client(pool_size=1, uid_weight_limit=500, weight_window_s=60)
    await client.account.pm_loan()
    waiting = asyncio.create_task(client.account.pm_loan(max_wait=120))
    await asyncio.sleep(0.1)
    started = asyncio.get_running_loop().time()
    await client.account.account_info(max_wait=1, timeout=2)
    assert asyncio.get_running_loop().time() - started < 0.5
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
