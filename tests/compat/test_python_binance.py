"""python-binance's AsyncClient against FakeBinance: start-up, PM Pro calls, a POST, error paths.

``AsyncClient.create()`` pings and reads server time before it returns, so the client class is a
subclass whose ``*_URL`` attributes point at the simulator (the library's own class is untouched).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from binance_pm.testing import FakeBinance

from ._support import accept, local, need, private_pems

need("binance")
from binance import AsyncClient  # noqa: E402
from binance.exceptions import BinanceAPIException  # noqa: E402

PM = "/sapi/v1/portfolio"
PEMS = private_pems()


@asynccontextmanager
async def started(sim: FakeBinance, key_type: str = "hmac", **kwargs: Any) -> AsyncIterator[Any]:
    """``AsyncClient.create()`` against ``sim``, signing with an HMAC, RSA or Ed25519 key."""
    urls = {name: local(value, sim.base_url) for name in dir(AsyncClient)
            if name.endswith("_URL") and isinstance(value := getattr(AsyncClient, name), str)}
    if key_type == "hmac":
        kwargs.setdefault("api_key", sim.api_key)
        kwargs.setdefault("api_secret", sim.api_secret)
    else:
        accept(sim, f"{key_type}-key", PEMS[key_type])
        kwargs.update(api_key=f"{key_type}-key", private_key=PEMS[key_type])
    client = await type("LocalAsyncClient", (AsyncClient,), urls).create(**kwargs)
    try:
        yield client
    finally:
        await client.close_connection()


async def test_start_up_pings_and_reads_the_time(fake_binance: FakeBinance) -> None:
    """create() succeeds: /api/v3/ping then /api/v3/time, both served without a benchmark import."""
    async with started(fake_binance):
        assert [r.path for r in fake_binance.requests] == ["/api/v3/ping", "/api/v3/time"]


Call = Callable[[Any], Awaitable[Any]]
CALLS: list[tuple[str, Call, str, str]] = [
    ("pm_loan", lambda c: c._request_margin_api("get", "portfolio/pmLoan", signed=True, data={}),
     "GET", f"{PM}/pmLoan"),
    ("repay", lambda c: c._request_margin_api("post", "portfolio/repay", signed=True,
                                              data={"from": "SPOT"}), "POST", f"{PM}/repay"),
    ("balance", lambda c: c.margin_v1_get_portfolio_balance(asset="BTC"), "GET", f"{PM}/balance"),
    ("span_account", lambda c: c.margin_v2_get_portfolio_account(), "GET",
     "/sapi/v2/portfolio/account"),
    ("tiered_rates", lambda c: c.margin_v2_get_portfolio_collateral_rate(), "GET",
     "/sapi/v2/portfolio/collateralRate"),
    ("auto_repay_switch", lambda c: c.margin_v1_post_portfolio_repay_futures_switch(
        autoRepay="false"), "POST", f"{PM}/repay-futures-switch"),
]


@pytest.mark.parametrize("key_type", ["hmac", "rsa", "ed25519"])
@pytest.mark.parametrize(("call", "method", "path"), [c[1:] for c in CALLS],
                         ids=[c[0] for c in CALLS])
async def test_pm_pro_calls(
    fake_binance: FakeBinance, call: Call, method: str, path: str, key_type: str
) -> None:
    """Its named PM Pro methods and its generic SAPI call (POSTs send a form body) verify."""
    async with started(fake_binance, key_type) as client:
        assert await call(client)
    last = fake_binance.requests[-1]
    assert (last.method, last.path, last.status) == (method, path, 200)
    if method == "POST":
        assert last.body and not last.query  # python-binance sends a POST's parameters as a form
        assert [e.path for e in fake_binance.executions] == [path]


async def test_removed_mint_is_endpoint_gone(fake_binance: FakeBinance) -> None:
    async with started(fake_binance) as client:
        with pytest.raises(BinanceAPIException) as info:
            await client.margin_v1_post_portfolio_mint(fromAsset="USDT", targetAsset="BFUSD",
                                                       amount="1")
    assert info.value.code == -21015


async def test_wrong_secret_is_1022(fake_binance: FakeBinance) -> None:
    async with started(fake_binance, api_secret="not-the-secret") as client:
        with pytest.raises(BinanceAPIException) as info:
            await client._request_margin_api("get", "portfolio/pmLoan", signed=True, data={})
    assert (info.value.status_code, info.value.code) == (400, -1022)


async def test_stale_timestamp_is_1021(fake_binance: FakeBinance) -> None:
    """The server clock jumps 2 minutes after start-up: the next signed call is -1021."""
    async with started(fake_binance) as client:
        fake_binance.skew_ms = 120_000
        with pytest.raises(BinanceAPIException) as info:
            await client._request_margin_api("post", "portfolio/repay", signed=True, data={})
    assert info.value.code == -1021 and fake_binance.executions == []


async def test_429_with_retry_after() -> None:
    async with FakeBinance(uid_weight_limit=500) as sim, started(sim) as client:
        await client._request_margin_api("get", "portfolio/pmLoan", signed=True, data={})
        with pytest.raises(BinanceAPIException) as info:
            await client._request_margin_api("get", "portfolio/pmLoan", signed=True, data={})
        assert (info.value.status_code, info.value.code) == (429, -1003)
        assert int(info.value.response.headers["Retry-After"]) >= 1
