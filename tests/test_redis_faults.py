"""The Redis store failing under a live client: a private redis-server, frozen or killed by its PID.

Issue 14, items A1, B5 and C12: a 2xx answer is returned even when the books can't be updated;
a store restarted empty is repaired from the next answer's usage header; a frozen store fails the
call (nothing sent) within its operation timeout instead of hanging it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from binance_pm import Client, RateLimitError, TransportError
from binance_pm.limits import RedisWindowStore
from binance_pm.testing import FakeBinance, Fault

from ._redis_proc import RedisProcess

PM_LOAN = "/sapi/v1/portfolio/pmLoan"  # GET, UID 500
REPAY = "/sapi/v1/portfolio/repay"  # POST, UID 3000


@pytest_asyncio.fixture
async def redis(redis_proc: RedisProcess) -> AsyncIterator[Redis]:
    """A client of the private server that reconnects once after a dropped connection (so a
    restarted server is reached again) and has no socket timeout (redis-py's default: a frozen
    server is waited on). Closed after the server is thawed: a frozen one would hold the close."""
    client = Redis(host="127.0.0.1", port=redis_proc.port, retry=Retry(NoBackoff(), 1))
    yield client
    if redis_proc.paused:
        redis_proc.resume()
    await client.aclose()


def _sent(sim: FakeBinance, path: str) -> int:
    return sum(1 for r in sim.requests if r.path == path)


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` every 10 ms; fail the test (not hang) if it stays false."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout}s")


async def test_a1_redis_dies_while_a_repay_is_in_flight(
    redis_proc: RedisProcess, redis: Redis
) -> None:
    """Redis killed after repay() left; Binance executes it and answers 200: repay() returns it.

    The answer's weight header is news (another program spent weight on the endpoint), so
    reconciling it needs the store, which is gone. That failure once escaped as TransportError,
    "never sent, safe to resend", for a repayment that went through.
    """
    async with FakeBinance() as sim, Client(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
        limiter_store=RedisWindowStore(redis, prefix="a1"),
    ) as client:
        await client.account.pm_loan()  # clock synced, scripts loaded: only the repay is left
        sim.burn("UID", REPAY, 3000)  # another program's repay: the header will be news
        sim.inject(Fault.latency(1.0, path=REPAY))  # keeps the repay in flight
        task = asyncio.create_task(client.account.repay())
        await _until(lambda: _sent(sim, REPAY) == 1)  # it has reached Binance
        redis_proc.kill()
        try:
            result = await asyncio.wait_for(task, 10)
        except TransportError:
            assert len(sim.executed(REPAY)) == 1  # executed, yet reported "never sent": the bug
            raise
    (execution,) = sim.executed(REPAY)
    assert execution.result == {"tranId": result.tran_id}


async def test_b5_redis_restarted_empty_mid_window(
    redis_proc: RedisProcess, redis: Redis
) -> None:
    """Redis restarted empty after 2 of 4 allowed calls: the next answers' weight headers restore
    the window's count, so the 5th call waits (here: refused locally) instead of drawing a 429.

    The header was once ignored when it matched what this client alone had counted (1,500 after
    the third call), so Redis stayed 1,000 behind and the fifth call was sent into a 429.
    """
    limit, window_s = 2000, 600.0  # four pm_loan calls per window
    await wait_for_window_start(window_s)
    async with FakeBinance(uid_weight_limit=limit, weight_window_s=window_s) as sim, Client(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
        uid_weight_limit=limit, weight_window_s=window_s,
        limiter_store=RedisWindowStore(redis, prefix="b5"),
    ) as client:
        for _ in range(2):
            await client.account.pm_loan()
        redis_proc.restart()
        if await redis.keys("b5:*"):  # pytest.fail, not assert: xfail must not swallow it
            pytest.fail("the restarted Redis still holds the window's count")
        outcomes = []
        for _ in range(3):
            try:
                await client.account.pm_loan(max_wait=0.5)
                outcomes.append("ok")
            except RateLimitError as err:
                outcomes.append(f"refused:{err.status}")
        assert sim.status_counts[429] == 0, outcomes
        assert outcomes == ["ok", "ok", "refused:None"]  # None: refused before sending
        assert sim.used("UID", PM_LOAN) == limit


async def test_c12_frozen_redis_is_bounded_by_the_call(
    redis_proc: RedisProcess, redis: Redis
) -> None:
    """A SIGSTOPped Redis (process frozen, sockets open): pm_loan(timeout=0.5, max_wait=0.5)
    fails within its own limits as TransportError (not after the store's 2 s op_timeout), and
    nothing is sent.

    Without a bound the reservation waited on the socket for ever; the 4 s guard below would end
    such a wait with TimeoutError.
    """
    async with FakeBinance() as sim, Client(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
        limiter_store=RedisWindowStore(redis, prefix="c12"),
    ) as client:
        await client.account.pm_loan()  # clock synced, scripts loaded
        redis_proc.pause()
        started = time.monotonic()
        with pytest.raises(TransportError):
            await asyncio.wait_for(client.account.pm_loan(timeout=0.5, max_wait=0.5), 4)
        elapsed = time.monotonic() - started
        assert elapsed < 1.2, elapsed
        assert _sent(sim, PM_LOAN) == 1  # only the warm-up call


async def wait_for_window_start(window_s: float, margin_s: float = 10.0) -> None:
    """Sleep into the next weight window if this one ends within ``margin_s``: the test's calls
    must all count in one window (the simulator's windows are aligned to the wall clock)."""
    left = window_s - time.time() % window_s
    if left < margin_s:
        await asyncio.sleep(left + 0.1)
