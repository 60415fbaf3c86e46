"""Binance's official PM Pro SDK against FakeBinance: every REST method, HMAC, RSA and Ed25519 keys.

The SDK is synchronous (requests); its calls run in a worker thread while the simulator serves on
the test's event loop. Each answer must parse into the SDK's own strict models (``.data()``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from binance_pm.testing import FakeBinance

from ._support import accept, need, private_pems

need("binance_sdk_derivatives_trading_portfolio_margin_pro")
from binance_common.configuration import ConfigurationRestAPI  # noqa: E402
from binance_common.errors import BadRequestError, TooManyRequestsError  # noqa: E402
from binance_sdk_derivatives_trading_portfolio_margin_pro import (  # noqa: E402
    DerivativesTradingPortfolioMarginPro,
)

PM = "/sapi/v1/portfolio"
# Every REST method of the SDK: its arguments, and the path it must execute on (POST/DELETE).
METHODS: dict[str, tuple[dict[str, Any], str | None]] = {
    "bnb_transfer": ({"amount": 0.5, "transfer_side": "TO_UM"}, f"{PM}/bnb-transfer"),
    "change_auto_repay_futures_status": ({"auto_repay": "false"}, f"{PM}/repay-futures-switch"),
    "delete_margin_call_level": ({}, f"{PM}/margin-call-level"),
    "fund_auto_collection": ({}, f"{PM}/auto-collection"),
    "fund_collection_by_asset": ({"asset": "USDT"}, f"{PM}/asset-collection"),
    "get_auto_repay_futures_status": ({}, None),
    "get_delta_mode_status": ({}, None),
    "get_margin_call_level": ({}, None),
    "get_portfolio_margin_asset_leverage": ({}, None),
    "get_portfolio_margin_pro_account_balance": ({}, None),
    "get_portfolio_margin_pro_account_info": ({}, None),
    "get_portfolio_margin_pro_span_account_info": ({}, None),
    "get_transferable_earn_asset_balance_for_portfolio_margin": (
        {"asset": "LDUSDT", "transfer_type": "EARN_TO_FUTURE"}, None),
    "portfolio_margin_collateral_rate": ({}, None),
    "portfolio_margin_pro_bankruptcy_loan_repay": ({}, f"{PM}/repay"),
    "portfolio_margin_pro_tiered_collateral_rate": ({}, None),
    "query_portfolio_margin_asset_index_price": ({"asset": "BTC"}, None),
    "query_portfolio_margin_pro_bankruptcy_loan_amount": ({}, None),
    "query_portfolio_margin_pro_bankruptcy_loan_repay_history": ({"size": 5}, None),
    "query_portfolio_margin_pro_negative_balance_interest_history": ({"asset": "USDT"}, None),
    "repay_futures_negative_balance": ({}, f"{PM}/repay-futures-negative-balance"),
    "set_margin_call_level": ({"margin_call_level": 1.5}, f"{PM}/margin-call-level"),
    "switch_delta_mode": ({"delta_enabled": "true"}, f"{PM}/delta-mode"),
    "transfer_ldusdt_rwusd_for_portfolio_margin": (
        {"asset": "LDUSDT", "transfer_type": "EARN_TO_FUTURE", "amount": 10},
        f"{PM}/earn-asset-transfer"),
}
PEMS = private_pems()


def sdk(sim: FakeBinance, key_type: str = "hmac", **config: Any) -> Any:
    """The SDK's REST client for ``sim``, signing with ``key_type``; no retries, 5 s timeout."""
    if key_type == "hmac":
        config.setdefault("api_secret", sim.api_secret)
        config.setdefault("api_key", sim.api_key)
    else:
        config.update(api_key=f"{key_type}-key", private_key=PEMS[key_type])
        accept(sim, f"{key_type}-key", PEMS[key_type])
    conf = ConfigurationRestAPI(base_path=sim.base_url, retries=0, timeout=5000, **config)
    return DerivativesTradingPortfolioMarginPro(config_rest_api=conf).rest_api


async def run(rest: Any, call: Callable[[], Any]) -> Any:
    try:
        return await asyncio.to_thread(call)
    finally:
        rest._session.close()  # requests keeps the socket open otherwise (a ResourceWarning)


def test_the_table_covers_every_rest_method() -> None:
    """A method the SDK adds fails here until this suite calls it."""
    rest_class = type(sdk_class_probe())
    public = {n for n, _ in inspect.getmembers(rest_class, inspect.isfunction)
              if not n.startswith("_") and not n.startswith("send_")}
    assert public == set(METHODS)


def sdk_class_probe() -> Any:
    conf = ConfigurationRestAPI(api_key="k", api_secret="s", base_path="http://127.0.0.1:9")
    rest = DerivativesTradingPortfolioMarginPro(config_rest_api=conf).rest_api
    rest._session.close()
    return rest


@pytest.mark.parametrize("key_type", ["hmac", "rsa", "ed25519"])
@pytest.mark.parametrize("method", sorted(METHODS))
async def test_every_method_parses(fake_binance: FakeBinance, key_type: str, method: str) -> None:
    """The call verifies, answers 200, parses into the SDK's model and executes where it should."""
    kwargs, executes_on = METHODS[method]
    rest = sdk(fake_binance, key_type)
    response = await run(rest, lambda: getattr(rest, method)(**kwargs))
    data = response.data()
    assert data is not None
    assert [r.status for r in fake_binance.requests] == [200]
    if executes_on is not None:
        assert [e.path for e in fake_binance.executions] == [executes_on]


async def test_wrong_secret_is_1022(fake_binance: FakeBinance) -> None:
    rest = sdk(fake_binance, api_secret="not-the-secret")
    with pytest.raises(BadRequestError) as info:
        await run(rest, rest.query_portfolio_margin_pro_bankruptcy_loan_amount)
    assert info.value.status_code == -1022


async def test_stale_timestamp_is_1021(fake_binance: FakeBinance) -> None:
    """The server clock 2 minutes ahead: the SDK's timestamp is outside recvWindow."""
    fake_binance.skew_ms = 120_000
    rest = sdk(fake_binance)
    with pytest.raises(BadRequestError) as info:
        await run(rest, rest.portfolio_margin_pro_bankruptcy_loan_repay)
    assert info.value.status_code == -1021 and fake_binance.executions == []


async def test_429_carries_retry_after() -> None:
    async with FakeBinance(uid_weight_limit=500) as sim:
        rest = sdk(sim)
        await run(rest, rest.query_portfolio_margin_pro_bankruptcy_loan_amount)
        with pytest.raises(TooManyRequestsError) as info:
            await run(rest, rest.query_portfolio_margin_pro_bankruptcy_loan_amount)
        assert info.value.status_code == -1003 and info.value.retry_after
