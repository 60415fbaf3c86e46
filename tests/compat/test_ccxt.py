"""ccxt's binance (async) against FakeBinance: every implicit PM Pro method, and its error paths.

ccxt signs every SAPI call, the MARKET_DATA ones included; its own throttle is switched off (the
simulator's weights are what is tested). Every URL of its table is pointed at the simulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from binance_pm.testing import FakeBinance

from ._support import accept, local, need, private_pems

ccxt = need("ccxt.async_support")

PM = "/sapi/v1/portfolio"
# Every implicit method ccxt has for a PM Pro path: its parameters, and where it executes.
LIVE: dict[str, tuple[dict[str, str], str | None]] = {
    "sapi_delete_portfolio_margin_call_level": ({}, f"{PM}/margin-call-level"),
    "sapi_get_portfolio_account": ({}, None),
    "sapi_get_portfolio_asset_index_price": ({"asset": "BTC"}, None),
    "sapi_get_portfolio_balance": ({}, None),
    "sapi_get_portfolio_collateralrate": ({}, None),
    "sapi_get_portfolio_delta_mode": ({}, None),
    "sapi_get_portfolio_earn_asset_balance": (
        {"asset": "LDUSDT", "transferType": "EARN_TO_FUTURE"}, None),
    "sapi_get_portfolio_interest_history": ({}, None),
    "sapi_get_portfolio_margin_asset_leverage": ({}, None),
    "sapi_get_portfolio_margin_call_level": ({}, None),
    "sapi_get_portfolio_pmloan": ({}, None),
    "sapi_get_portfolio_pmloan_history": ({"size": "5"}, None),
    "sapi_get_portfolio_repay_futures_switch": ({}, None),
    "sapi_post_portfolio_asset_collection": ({"asset": "USDT"}, f"{PM}/asset-collection"),
    "sapi_post_portfolio_auto_collection": ({}, f"{PM}/auto-collection"),
    "sapi_post_portfolio_bnb_transfer": (
        {"amount": "0.5", "transferSide": "TO_UM"}, f"{PM}/bnb-transfer"),
    "sapi_post_portfolio_delta_mode": ({"deltaEnabled": "true"}, f"{PM}/delta-mode"),
    "sapi_post_portfolio_earn_asset_transfer": (
        {"asset": "LDUSDT", "transferType": "EARN_TO_FUTURE", "amount": "10"},
        f"{PM}/earn-asset-transfer"),
    "sapi_post_portfolio_margin_call_level": ({"marginCallLevel": "1.5"},
                                              f"{PM}/margin-call-level"),
    "sapi_post_portfolio_repay": ({}, f"{PM}/repay"),
    "sapi_post_portfolio_repay_futures_negative_balance": (
        {}, f"{PM}/repay-futures-negative-balance"),
    "sapi_post_portfolio_repay_futures_switch": ({"autoRepay": "false"},
                                                 f"{PM}/repay-futures-switch"),
    "sapiv2_get_portfolio_account": ({}, None),
}
REMOVED = {"sapi_post_portfolio_mint", "sapi_post_portfolio_redeem"}  # -21015 since 2025-11
# A retail Portfolio Margin path ccxt files under "portfolio"; not a PM Pro endpoint.
NOT_PM_PRO = {"sapi_get_portfolio_negative_balance_exchange_record"}


@asynccontextmanager
async def exchange(sim: FakeBinance, **options: Any) -> AsyncIterator[Any]:
    config = {"apiKey": sim.api_key, "secret": sim.api_secret, "enableRateLimit": False, **options}
    ex = ccxt.binance(config)
    for table in (ex.urls["api"], ex.urls.get("test"), ex.urls.get("demo")):
        for name, value in list((table or {}).items()):
            if isinstance(value, str):
                table[name] = local(value, sim.base_url)
    try:
        yield ex
    finally:
        await ex.close()


async def test_the_table_covers_every_implicit_pm_method(fake_binance: FakeBinance) -> None:
    """A PM Pro method ccxt adds fails here until this suite calls it."""
    async with exchange(fake_binance) as ex:
        names = {n for n in dir(ex) if n.startswith(("sapi_", "sapiv2_")) and "_portfolio_" in n}
    assert names == set(LIVE) | REMOVED | NOT_PM_PRO


@pytest.mark.parametrize("method", sorted(LIVE))
async def test_every_live_method(fake_binance: FakeBinance, method: str) -> None:
    """Signed by ccxt (timestamp and signature even on MARKET_DATA routes), answered 200."""
    params, executes_on = LIVE[method]
    async with exchange(fake_binance) as ex:
        assert await getattr(ex, method)(params) is not None
    (request,) = fake_binance.requests
    assert request.status == 200
    assert "signature=" in request.query + request.body.decode()  # POSTs go as a form body
    if executes_on is not None:
        assert [e.path for e in fake_binance.executions] == [executes_on]


@pytest.mark.parametrize("key_type", ["rsa", "ed25519"])
async def test_asymmetric_keys(fake_binance: FakeBinance, key_type: str) -> None:
    """ccxt signs with an RSA or Ed25519 PEM given as the secret: a GET and a form-body POST."""
    pem = private_pems()[key_type]
    accept(fake_binance, f"{key_type}-key", pem)
    async with exchange(fake_binance, apiKey=f"{key_type}-key", secret=pem) as ex:
        assert await ex.sapi_get_portfolio_pmloan()
        assert await ex.sapi_post_portfolio_bnb_transfer({"amount": "0.5", "transferSide": "TO_UM"})
    assert [r.status for r in fake_binance.requests] == [200, 200]
    assert [e.path for e in fake_binance.executions] == [f"{PM}/bnb-transfer"]


@pytest.mark.parametrize("method", sorted(REMOVED))
async def test_removed_methods_answer_endpoint_gone(fake_binance: FakeBinance, method: str) -> None:
    async with exchange(fake_binance) as ex:
        with pytest.raises(ccxt.BaseError, match="-21015"):
            await getattr(ex, method)({"fromAsset": "USDT", "targetAsset": "BFUSD", "amount": "1"})


async def test_wrong_secret_is_an_authentication_error(fake_binance: FakeBinance) -> None:
    async with exchange(fake_binance, secret="not-the-secret") as ex:
        with pytest.raises(ccxt.AuthenticationError, match="-1022"):
            await ex.sapi_get_portfolio_pmloan()


async def test_stale_timestamp_is_1021(fake_binance: FakeBinance) -> None:
    """ccxt stamps with its own clock: a server 2 minutes ahead refuses the request."""
    fake_binance.skew_ms = 120_000
    async with exchange(fake_binance) as ex:
        with pytest.raises(ccxt.BaseError, match="-1021"):
            await ex.sapi_post_portfolio_repay()
    assert fake_binance.executions == []


async def test_429_is_ddos_protection() -> None:
    """ccxt's class for Binance's 429 and 418."""
    async with FakeBinance(uid_weight_limit=500) as sim, exchange(sim) as ex:
        await ex.sapi_get_portfolio_pmloan()
        with pytest.raises(ccxt.DDoSProtection, match="-1003"):
            await ex.sapi_get_portfolio_pmloan()
        assert sim.requests[-1].status == 429
