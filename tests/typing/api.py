"""Type-checked (never run) uses of the public API: mypy --strict must accept every line."""

from __future__ import annotations

from decimal import Decimal

import aiohttp

import binance_pm
from binance_pm import (
    NOT_GIVEN,
    APIError,
    Client,
    ExecutionUnknownError,
    PmLoan,
    RateLimitError,
    RepayResult,
    RepaySource,
    RetryPolicy,
    Timeout,
    WeightsSnapshot,
)
from binance_pm.limits import InMemoryWindowStore, WeightKind
from binance_pm.testing import FakeBinance, Fault


async def usage(http: aiohttp.ClientSession) -> None:
    async with Client(api_key="k", api_secret="s") as client:
        loan: PmLoan = await client.account.pm_loan()
        amount: Decimal = loan.amount
        loan = await client.account.pm_loan(recv_window=10_000, timeout=3.0, max_wait=0)
        loan = await client.account.pm_loan(timeout=Timeout(total=5, connect=1), recv_window=NOT_GIVEN)
        result: RepayResult = await client.account.repay(from_=RepaySource.MARGIN)
        tran_id: int = result.tran_id
        snapshot: WeightsSnapshot = client.weights
        used: int = sum(b.used for b in snapshot.for_kind(WeightKind.UID))
        offset: float = client.clock.offset_ms
        del amount, tran_id, used, offset
    Client(
        api_key="k",
        private_key=b"-----BEGIN PRIVATE KEY-----...",
        base_url="https://api.binance.com",
        recv_window=5000,
        session=http,
        uid_weight_limit=180_000,
        ip_weight_limit=12_000,
        weight_window_s=60,
        limiter_store=InMemoryWindowStore(),
        retry=RetryPolicy(max_retries=2),
    )
    try:
        pass
    except ExecutionUnknownError as err:
        method: str = err.method
        del method
    except RateLimitError as err:
        wait: float = err.retry_after
        banned: bool = err.banned
        del wait, banned
    except APIError as err:
        code: int | None = err.code
        status: int = err.status
        del code, status
    async with FakeBinance(skew_ms=5000) as sim:
        sim.inject(Fault.status_code(503, execute=True), Fault.reset(), Fault.latency(0.1))
        base: str = sim.base_url
        del base
    version: str = binance_pm.__version__
    del version
