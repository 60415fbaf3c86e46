"""The ledger soak: ~10,000 mixed requests, 200 tasks, random faults; nothing lost or doubled.

Every POST the simulator executed must be one the client reported as succeeded or as
ExecutionUnknownError, never as a definite failure; no POST executes twice; no task hangs; no
slot is leaked; the weight budget is never exceeded. Seeded, bounded, loopback only.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from binance_pm import BinanceError, Client, ExecutionUnknownError, RetryPolicy, Timeout
from binance_pm._endpoints import Endpoint, Param, Weight
from binance_pm.limits import WeightKind
from binance_pm.testing import FakeBinance, Fault
from binance_pm.testing._state import AccountState

from ._redis_proc import RedisProcess

LEDGER_PATH = "/sapi/v1/test/ledger"
PM_LOAN = "/sapi/v1/portfolio/pmLoan"
LEDGER = Endpoint("ledger", "POST", LEDGER_PATH, Weight(WeightKind.IP, 1),
                  params=(Param("ref", "ref"),))
TOTAL = 10_000
TASKS = 200
WINDOW_S = 1.0
IP_LIMIT = 400  # ledger POSTs per window
UID_LIMIT = 150_000  # 300 pm_loan per window
CALL_TIMEOUT = 0.5
HARD_TIMEOUT = 15.0  # far above the worst legitimate case: retries + waits for budget


def serve_ledger(sim: FakeBinance) -> None:
    """Add a money-moving endpoint to this simulator: each execution gets a new id."""
    ids = itertools.count(1)

    @sim.route("POST", LEDGER_PATH, "IP", 1, executes=True, params=("ref",), required=("ref",))
    def ledger(state: AccountState, params: Mapping[str, str], now: int) -> Any:
        return {"tranId": next(ids)}


def _chaos(rng: random.Random) -> Any:
    faults = [
        lambda: Fault.status_code(503, execute=False),
        lambda: Fault.status_code(503, execute=True),
        lambda: Fault.status_code(500, body='{"code":-1007,"msg":"Timeout waiting"}', execute=True),
        lambda: Fault.status_code(400, body='{"code":-1006,"msg":"Unexpected"}', execute=False),
        lambda: Fault.html(502),
        lambda: Fault.reset(execute=False),
        lambda: Fault.reset(execute=True),
        lambda: Fault.truncate(),
        lambda: Fault.stall(execute=rng.random() < 0.5),
        lambda: Fault.latency(0.05),
    ]

    def pick(method: str, path: str) -> Fault | None:
        if path not in (LEDGER_PATH, PM_LOAN) or rng.random() >= 0.08:
            return None
        return rng.choice(faults)()

    return pick


async def post_ledger(client: Client, ref: str) -> str:
    """One money-moving POST; what the client reported: ok, unknown, failed:<error> or hung."""
    try:
        await asyncio.wait_for(client._session.request(LEDGER, {"ref": ref}, dict), HARD_TIMEOUT)
        return "ok"
    except ExecutionUnknownError:
        return "unknown"
    except BinanceError as err:
        return f"failed:{type(err).__name__}"
    except TimeoutError:
        return "hung"


def assert_ledger_balances(sim: FakeBinance, outcomes: Mapping[str, str]) -> None:
    """No POST executed twice, every execution reported as done or unknown, never a 429/418."""
    executed = Counter(e.params["ref"] for e in sim.executions if e.path == LEDGER_PATH)
    assert [ref for ref, n in executed.items() if n > 1] == []  # nothing executed twice
    wrong = {ref: outcomes.get(ref) for ref in executed if outcomes.get(ref) not in ("ok", "unknown")}
    assert wrong == {}  # every execution was reported as done or unknown
    assert all(executed[ref] == 1 for ref, o in outcomes.items() if o == "ok")
    assert sim.status_counts[429] == 0 and sim.status_counts[418] == 0


@pytest.mark.soak
async def test_ledger_soak_balances() -> None:
    """200 tasks, ~10,000 requests, 8% random faults: the ledger balances exactly."""
    outcomes: dict[str, str] = {}
    foreign: list[BaseException] = []
    hung = 0
    gets = Counter[str]()
    counter = itertools.count()
    async with FakeBinance(
        uid_weight_limit=UID_LIMIT, ip_weight_limit=IP_LIMIT, weight_window_s=WINDOW_S,
    ) as sim, Client(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
        uid_weight_limit=UID_LIMIT, ip_weight_limit=IP_LIMIT, weight_window_s=WINDOW_S,
        timeout=Timeout(total=CALL_TIMEOUT, connect=CALL_TIMEOUT),
        retry=RetryPolicy(max_retries=3, base=0.005, cap=0.05), rng=random.Random(7),
    ) as client:
        serve_ledger(sim)
        await client.account.pm_loan()  # sync the clock before the chaos starts
        sim.chaos = _chaos(random.Random(1234))
        choose = random.Random(99)

        async def one(i: int) -> None:
            nonlocal hung
            if choose.random() < 0.5:
                try:
                    await asyncio.wait_for(client.account.pm_loan(), HARD_TIMEOUT)
                    gets["ok"] += 1
                except BinanceError as err:
                    gets[type(err).__name__] += 1
                except TimeoutError:
                    hung += 1
                return
            ref = f"r{i}"
            outcomes[ref] = await post_ledger(client, ref)
            hung += outcomes[ref] == "hung"

        async def worker() -> None:
            while (i := next(counter)) < TOTAL:
                try:
                    await one(i)
                except Exception as err:  # anything not a binance_pm error breaks the contract
                    foreign.append(err)

        await asyncio.gather(*(worker() for _ in range(TASKS)))
        slots = client._session.slots
        assert slots.free == client._session.pool_size  # none leaked

    assert foreign == []
    assert hung == 0
    assert_ledger_balances(sim, outcomes)
    assert max(sim.max_used.values()) <= max(UID_LIMIT, IP_LIMIT)
    for bucket, used in sim.max_used.items():
        limit = UID_LIMIT if bucket.startswith("UID") else IP_LIMIT if bucket.startswith("IP") else 6000
        assert used <= limit, bucket
    # The soak did exercise the interesting paths.
    assert len(outcomes) > 0.4 * TOTAL and gets["ok"] > 0.4 * TOTAL
    kinds = Counter(outcomes.values())
    assert kinds["ok"] > 0 and kinds["unknown"] > 50, kinds


REDIS_TOTAL = 3_000


@pytest.mark.soak
async def test_ledger_soak_with_redis_faults_and_a_second_program(redis_proc: RedisProcess) -> None:
    """Two programs (clients) share one budget through Redis while Redis freezes now and then,
    sometimes past its operation timeout: nothing executes twice, no outcome is misreported (a
    request refused because Redis was frozen was never sent), no 429, no task hangs. (Weight
    spent by a program outside the store is test_no_429_when_another_program_spent_...)"""
    from redis.asyncio import Redis

    from binance_pm.limits import RedisWindowStore

    outcomes: dict[str, str] = {}
    foreign: list[BaseException] = []
    counter = itertools.count()
    redis = Redis.from_url(redis_proc.url)
    store = RedisWindowStore(redis, prefix="soak", op_timeout=0.3)
    async with FakeBinance(
        uid_weight_limit=UID_LIMIT, ip_weight_limit=IP_LIMIT, weight_window_s=WINDOW_S,
    ) as sim:
        serve_ledger(sim)
        clients = [Client(
            api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
            uid_weight_limit=UID_LIMIT, ip_weight_limit=IP_LIMIT, weight_window_s=WINDOW_S,
            timeout=Timeout(total=CALL_TIMEOUT, connect=CALL_TIMEOUT), limiter_store=store,
            retry=RetryPolicy(max_retries=3, base=0.005, cap=0.05), rng=random.Random(n),
        ) for n in range(2)]
        for client in clients:
            await client.account.pm_loan()  # clocks synced before the faults start
        sim.chaos = _chaos(random.Random(4321))
        done = asyncio.Event()

        async def freezer() -> None:
            # Calls that find a window full wait in line and reserve in a burst when the next
            # window opens: every other freeze spans a boundary and outlasts op_timeout there.
            rng = random.Random(5)
            while not done.is_set():
                await asyncio.sleep(rng.uniform(0.3, 0.8))
                if rng.random() < 0.5:
                    await asyncio.sleep((WINDOW_S - time.time() % WINDOW_S) - 0.02)
                    frozen = rng.uniform(0.35, 0.8)
                else:
                    frozen = rng.uniform(0.05, 0.5)  # sometimes past op_timeout
                redis_proc.pause()
                await asyncio.sleep(frozen)
                redis_proc.resume()

        async def worker(client: Client) -> None:
            while (i := next(counter)) < REDIS_TOTAL:
                try:
                    outcomes[f"r{i}"] = await post_ledger(client, f"r{i}")
                except Exception as err:  # anything not a binance_pm error breaks the contract
                    foreign.append(err)

        background = [asyncio.create_task(freezer())]
        try:
            await asyncio.gather(*(worker(clients[n % 2]) for n in range(100)))
        finally:
            done.set()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            redis_proc.resume()
            for client in clients:
                await client.close()
            await redis.aclose()

    assert foreign == []
    assert "hung" not in outcomes.values()
    assert_ledger_balances(sim, outcomes)
    kinds = Counter(outcomes.values())
    assert kinds["ok"] > 0.3 * REDIS_TOTAL and kinds["failed:TransportError"] > 0, kinds
