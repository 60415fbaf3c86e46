"""Connection slots: a FIFO gate, never more than pool_size in flight, a wait for one bounded,
and cancellation never loses or leaks a slot."""

from __future__ import annotations

import asyncio
import time

import pytest

from binance_pm import TransportError
from binance_pm._gate import Gate
from binance_pm.testing import FakeBinance, Fault

from .conftest import ClientFactory

PM_LOAN = "/sapi/v1/portfolio/pmLoan"


async def test_fifo_handover_and_no_overtaking() -> None:
    gate = Gate(1)
    assert gate.try_enter() and not gate.try_enter()
    order: list[int] = []

    async def worker(i: int) -> None:
        await gate.enter()
        order.append(i)
        await asyncio.sleep(0)
        gate.leave()

    tasks = [asyncio.create_task(worker(i)) for i in range(3)]
    await asyncio.sleep(0)
    assert not gate.try_enter()  # queued waiters come first, even with a slot about to free
    gate.leave()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2] and gate.free == 1


async def test_cancelled_waiter_takes_no_slot() -> None:
    gate = Gate(1)
    assert gate.try_enter()
    waiter = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate.leave()
    assert gate.free == 1 and gate.try_enter()


async def test_slot_handed_to_a_cancelled_waiter_is_passed_on() -> None:
    gate = Gate(1)
    assert gate.try_enter()
    first = asyncio.create_task(gate.enter())
    second = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    gate.leave()  # hands the slot to `first`...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # the slot went on to `second`
    gate.leave()
    assert gate.free == 1


async def test_client_never_has_more_than_pool_size_in_flight(
    make_client: ClientFactory, fake_binance: FakeBinance
) -> None:
    """pool_size=2 and six slow calls: two at a time, and the queued four hold no weight yet."""
    left = 60 - time.time() % 60  # the weight check reads the current minute's window
    if left < 2:
        await asyncio.sleep(left + 0.1)
    client = make_client(pool_size=2)
    await client.account.pm_loan()
    fake_binance.inject(Fault.latency(0.3, path=PM_LOAN, times=None))
    calls = asyncio.gather(*(client.account.pm_loan() for _ in range(6)))
    await asyncio.sleep(0.1)
    (bucket,) = [b for b in client.weights.buckets if b.key.endswith(PM_LOAN)]
    assert bucket.used == 3 * 500  # the first call and the two in flight
    await calls
    arrivals = sorted(r.server_ms for r in fake_binance.requests if r.path == PM_LOAN)[1:]
    waves = [arrivals[i + 2] - arrivals[i] for i in range(len(arrivals) - 2)]
    assert len(arrivals) == 6 and min(waves) >= 250, arrivals


async def test_wait_for_a_slot_is_bounded_by_timeout(
    make_client: ClientFactory, fake_binance: FakeBinance
) -> None:
    """With every slot held by slow calls, a call with timeout=0.3 gives up after ~0.3 s, unsent."""
    client = make_client(pool_size=1)
    await client.account.pm_loan()
    fake_binance.inject(Fault.latency(0.8, path=PM_LOAN))
    slow = asyncio.create_task(client.account.pm_loan())
    await asyncio.sleep(0.1)
    started = asyncio.get_running_loop().time()
    with pytest.raises(TransportError, match="no free connection slot"):
        await client.account.account_info(timeout=0.3)
    assert asyncio.get_running_loop().time() - started < 0.7
    assert not any(r.path.endswith("/account") for r in fake_binance.requests)
    await slow


async def test_calls_waiting_for_weight_hold_no_slot(
    make_client: ClientFactory, fake_binance: FakeBinance
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
