"""The simulator's weight books: pools per API family, bucket policy, 429s and the 418 policy.

The simulator's clock is a list the test moves (``wall=``), so windows and decay need no sleeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from binance_pm.testing import (
    ROUTES,
    Escalation,
    FakeBinance,
    Family,
    per_kind,
    per_method_and_path,
    per_path,
)
from binance_pm.testing._state import AccountState

from .test_sim_wire import hmac_sign, send

PM_LOAN = "/sapi/v1/portfolio/pmLoan"
ACCOUNT = "/sapi/v1/portfolio/account"
LEVEL = "/sapi/v1/portfolio/margin-call-level"
T0 = 1_800_000_000.0  # a window boundary for every window length used here


class Wall:
    """A settable clock for the simulator, in seconds."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


async def signed(sim: FakeBinance, method: str, path: str, params: str = "") -> tuple[int, Any]:
    query = (f"{params}&" if params else "") + f"timestamp={sim.now_ms()}"
    status, data, _ = await send(sim, method, path, f"{query}&signature={hmac_sign(sim, query)}")
    return status, data


async def test_a_sapi_429_stays_on_its_endpoint_and_never_bans() -> None:
    """One endpoint over budget: it answers 429 however often it is called; the others serve."""
    wall = Wall()
    async with FakeBinance(uid_weight_limit=500, wall=wall) as sim:
        assert (await signed(sim, "GET", PM_LOAN))[0] == 200
        for _ in range(6):  # keeps calling into the 429: still 429, never 418 on /sapi
            wall.now += 0.1
            assert (await signed(sim, "GET", PM_LOAN))[0] == 429
        for _ in range(6):  # another UID endpoint with unused budget
            assert (await signed(sim, "GET", ACCOUNT))[0] == 200
        assert sim.status_counts[418] == 0 and sim.violations == 5


async def test_escalation_counts_only_its_budget_and_decays() -> None:
    """With a ban policy on /sapi: strikes are requests into that budget's 429, and they decay."""
    wall = Wall()
    policy = {Family.SAPI: Escalation(ban_after=3, ban_s=30, decay_s=5)}
    async with FakeBinance(uid_weight_limit=500, wall=wall, escalation=policy) as sim:
        await signed(sim, "GET", PM_LOAN)
        assert (await signed(sim, "GET", PM_LOAN))[0] == 429  # the 429 itself is no strike
        for _ in range(4):
            assert (await signed(sim, "GET", ACCOUNT))[0] == 200  # other budgets: no strikes
        assert [(await signed(sim, "GET", PM_LOAN))[0] for _ in range(2)] == [429, 429]
        wall.now += 6  # both strikes are older than decay_s
        assert (await signed(sim, "GET", PM_LOAN))[0] == 429
        assert (await signed(sim, "GET", PM_LOAN))[0] == 429
        status, data, headers = await send(sim, "GET", "/api/v3/time")
        assert status == 200  # two strikes inside decay_s: no ban yet
        assert (await signed(sim, "GET", PM_LOAN))[0] == 418  # the third within 5 s
        status, data, headers = await send(sim, "GET", "/api/v3/time")
        assert (status, data["code"], headers["Retry-After"]) == (418, -1003, "30")
        wall.now += 31
        assert (await signed(sim, "GET", ACCOUNT))[0] == 200


async def test_api_pool_bans_by_default_and_spares_the_futures_host() -> None:
    """/api escalates to a 418 after 3 strikes; /fapi (another host) keeps serving."""
    wall = Wall()
    async with FakeBinance(api_weight_limit=2, wall=wall) as sim:
        serve_fapi_echo(sim)
        statuses = [(await send(sim, "GET", "/api/v3/ping"))[0] for _ in range(6)]
        assert statuses == [200, 200, 429, 429, 429, 418]
        assert (await send(sim, "GET", PM_LOAN))[0] == 418  # /sapi shares api.binance.com
        assert (await send(sim, "GET", "/fapi/v1/echo"))[0] == 200


def serve_fapi_echo(sim: FakeBinance, weight: int = 1) -> None:
    """Two /fapi routes on this simulator only (USER_STREAM-like: key header, no signature)."""
    for path in ("/fapi/v1/echo", "/fapi/v1/other"):
        @sim.route("GET", path, "IP", weight, signed=False)
        def echo(state: AccountState, params: Mapping[str, str], now: int) -> Any:
            return {}


async def test_fapi_is_one_ip_pool_of_its_own() -> None:
    """/fapi routes share one 2,400 pool with X-MBX-USED-WEIGHT-1M, apart from /api."""
    async with FakeBinance() as sim:
        assert sim.futures_url == sim.base_url and sim.limits["FAPI"] == 2400
        serve_fapi_echo(sim, weight=1000)
        _, _, headers = await send(sim, "GET", "/fapi/v1/echo")
        assert headers["X-MBX-USED-WEIGHT-1M"] == "1000"
        _, _, headers = await send(sim, "GET", "/fapi/v1/other")
        assert headers["X-MBX-USED-WEIGHT-1M"] == "2000"
        _, _, headers = await send(sim, "GET", "/api/v3/time")
        assert headers["X-MBX-USED-WEIGHT-1M"] == "1"  # the /api pool is another one
        status, data, headers = await send(sim, "GET", "/fapi/v1/echo")
        assert (status, data["code"], headers["X-MBX-USED-WEIGHT-1M"]) == (429, -1003, "2000")
    async with FakeBinance(fapi_weight_limit=5) as sim:
        serve_fapi_echo(sim, weight=3)
        assert [(await send(sim, "GET", "/fapi/v1/echo"))[0] for _ in range(2)] == [200, 429]


async def test_sapi_headers_report_their_own_budget() -> None:
    """A UID endpoint reports X-SAPI-USED-UID-WEIGHT-1M, an IP endpoint the IP header."""
    async with FakeBinance() as sim:
        query = f"timestamp={sim.now_ms()}"
        _, _, headers = await send(sim, "GET", PM_LOAN, f"{query}&signature={hmac_sign(sim, query)}")
        assert headers["X-SAPI-USED-UID-WEIGHT-1M"] == "500"
        assert "X-SAPI-USED-IP-WEIGHT-1M" not in headers
        _, _, headers = await send(sim, "GET", "/sapi/v1/portfolio/collateralRate")
        assert headers["X-SAPI-USED-IP-WEIGHT-1M"] == "50"


@pytest.mark.parametrize(
    ("policy", "post_sees"),
    [(per_path, "3000"), (per_method_and_path, "1500"), (per_kind, "3050")],
)
async def test_sapi_bucket_policy_is_the_simulators_own(policy: Any, post_sees: str) -> None:
    """GET then POST on one path, plus another IP endpoint: the policy decides who shares."""
    async with FakeBinance(sapi_buckets=policy) as sim:
        await send(sim, "GET", "/sapi/v1/portfolio/collateralRate")  # IP 50 elsewhere
        query = f"timestamp={sim.now_ms()}"
        sig = hmac_sign(sim, query)
        await send(sim, "GET", LEVEL, f"{query}&signature={sig}")  # IP 1500
        query = f"marginCallLevel=1.5&timestamp={sim.now_ms()}"
        _, _, headers = await send(sim, "POST", LEVEL, f"{query}&signature={hmac_sign(sim, query)}")
        assert headers["X-SAPI-USED-IP-WEIGHT-1M"] == post_sees


async def test_each_simulator_has_its_own_routes() -> None:
    """A route added or replaced on one simulator is not served by another."""
    async with FakeBinance() as one, FakeBinance() as two:

        @one.route("GET", "/api/v3/ping", "API", 1, signed=False, api_key=False)
        def busy_ping(state: AccountState, params: Mapping[str, str], now: int) -> Any:
            return {"replaced": True}

        serve_fapi_echo(one)
        assert (await send(one, "GET", "/api/v3/ping"))[1] == {"replaced": True}
        assert (await send(two, "GET", "/api/v3/ping"))[1] == {}
        assert (await send(one, "GET", "/fapi/v1/echo"))[0] == 200
        assert (await send(two, "GET", "/fapi/v1/echo"))[0] == 404
        assert ("GET", "/fapi/v1/echo") not in ROUTES
