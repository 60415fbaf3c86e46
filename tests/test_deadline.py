"""Total timeouts kept by one timer per client (binance_pm/_deadline.py), not one per request.

Each test drives real requests through the simulator; the contract is the one aiohttp's own
timeout gave: a stalled attempt ends as a timeout at about its deadline, the calling task is left
with no cancellation pending, and a cancellation from anywhere else is never turned into a timeout.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from binance_pm import Client, RetryPolicy, TransportError
from binance_pm.testing import FakeBinance, Fault

from .conftest import ClientFactory

PM_LOAN = "/sapi/v1/portfolio/pmLoan"
NO_RETRY = RetryPolicy(max_retries=0)


async def _stalling(
    sim: FakeBinance, make_client: ClientFactory, timeout: float, times: int | None = 1
) -> Client:
    """A warm client (clock synced, no retries) whose next ``times`` pmLoan calls never answer."""
    client = make_client(timeout=timeout, retry=NO_RETRY)
    await client.account.pm_loan()
    sim.inject(Fault.stall(path=PM_LOAN, times=times))
    return client


async def test_no_event_loop_timer_per_request(fake_binance: FakeBinance, make_client: ClientFactory) -> None:
    """200 calls (100 at once) on a warm pool schedule at most a couple of client-side loop
    timers in all (opening a connection has aiohttp's connect timer: the pool is warmed first)."""
    client = make_client()
    await client.account.pm_loan()  # clock synced
    await asyncio.gather(*(client.account.pm_loan() for _ in range(100)))  # pool full
    loop = asyncio.get_running_loop()
    scheduled: list[Any] = []
    real_call_at = loop.call_at

    def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
        owner = type(getattr(callback, "__self__", None)).__module__
        if not owner.startswith("aiohttp.web"):  # the simulator shares this loop
            scheduled.append(callback)
        return real_call_at(when, callback, *args, **kwargs)

    loop.call_at = counting_call_at  # type: ignore[method-assign]
    try:
        for _ in range(2):
            await asyncio.gather(*(client.account.pm_loan() for _ in range(100)))
    finally:
        del loop.call_at  # back to the class's method
    assert len(scheduled) <= 2, scheduled[:5]


async def test_stalled_call_times_out_and_task_is_left_clean(
    fake_binance: FakeBinance, make_client: ClientFactory
) -> None:
    client = await _stalling(fake_binance, make_client, 0.2)
    start = time.monotonic()
    with pytest.raises(TransportError, match="TimeoutError"):
        await client.account.pm_loan()
    assert 0.15 < time.monotonic() - start < 2.0
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0.01)  # no stray cancellation waiting to land
    assert (await client.account.pm_loan()).asset == "BUSD"


async def test_short_call_timeout_fires_while_a_long_one_is_pending(
    fake_binance: FakeBinance, make_client: ClientFactory
) -> None:
    """The timer is armed for the long call first; a shorter deadline must re-arm it."""
    client = await _stalling(fake_binance, make_client, 30, times=2)
    long_call = asyncio.create_task(client.account.pm_loan())
    await asyncio.sleep(0.05)
    start = time.monotonic()
    with pytest.raises(TransportError, match="TimeoutError"):
        await client.account.pm_loan(timeout=0.2)
    assert time.monotonic() - start < 2.0
    assert not long_call.done()
    long_call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await long_call


async def test_many_stalled_calls_all_time_out(fake_binance: FakeBinance, make_client: ClientFactory) -> None:
    client = await _stalling(fake_binance, make_client, 0.2, times=None)
    start = time.monotonic()
    results = await asyncio.gather(
        *(client.account.pm_loan() for _ in range(30)), return_exceptions=True
    )
    assert all(isinstance(r, TransportError) and "TimeoutError" in str(r) for r in results)
    assert time.monotonic() - start < 3.0
    assert len(client._session._deadlines) == 0  # every section left its entry behind


async def test_callers_own_timeout_is_not_taken_for_ours(
    fake_binance: FakeBinance, make_client: ClientFactory
) -> None:
    """asyncio.timeout() around a call: the caller's TimeoutError, not a TransportError."""
    client = await _stalling(fake_binance, make_client, 30)
    with pytest.raises(TimeoutError) as caught:
        async with asyncio.timeout(0.2):
            await client.account.pm_loan()
    assert not isinstance(caught.value, TransportError)
    assert len(client._session._deadlines) == 0
    assert (await client.account.pm_loan()).asset == "BUSD"


async def test_our_timeout_inside_a_callers_longer_timeout(
    fake_binance: FakeBinance, make_client: ClientFactory
) -> None:
    client = await _stalling(fake_binance, make_client, 0.2)
    async with asyncio.timeout(10) as outer:
        with pytest.raises(TransportError, match="TimeoutError"):
            await client.account.pm_loan()
    assert not outer.expired()


async def test_cancel_from_outside_is_not_a_timeout(
    fake_binance: FakeBinance, make_client: ClientFactory
) -> None:
    client = await _stalling(fake_binance, make_client, 30)
    task = asyncio.create_task(client.account.pm_loan())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(client._session._deadlines) == 0


async def test_a_call_from_a_second_event_loop_is_refused_and_the_first_keeps_working(
    fake_binance: FakeBinance,
) -> None:
    """A call made from another thread's event loop while this loop has calls in flight fails
    cleanly (nothing sent, its weight given back), and this loop's calls and timeouts go on."""
    import threading

    async with Client(api_key=fake_binance.api_key, api_secret=fake_binance.api_secret,
                      base_url=fake_binance.base_url, timeout=1.0,
                      retry=RetryPolicy(max_retries=0)) as client:
        await client.account.pm_loan()
        fake_binance.inject(Fault.latency(0.5, path="/sapi/v1/portfolio/pmLoan"))
        slow = asyncio.create_task(client.account.pm_loan())
        await asyncio.sleep(0.1)
        caught: list[BaseException] = []

        def other_thread() -> None:
            try:
                asyncio.run(client.account.account_info())
            except BaseException as err:  # what the second loop saw
                caught.append(err)

        thread = threading.Thread(target=other_thread)
        thread.start()
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
        assert len(caught) == 1 and isinstance(caught[0], RuntimeError), caught
        assert "another event loop" in str(caught[0])
        assert (await slow).asset == "BUSD"
        fake_binance.inject(Fault.stall(path="/sapi/v1/portfolio/pmLoan"))
        with pytest.raises(TransportError, match="TimeoutError"):  # this loop's timer still fires
            await asyncio.wait_for(client.account.pm_loan(timeout=0.3), 5)
    assert not any(r.path.endswith("/account") for r in fake_binance.requests)
