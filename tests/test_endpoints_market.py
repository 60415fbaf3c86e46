"""client.market through the simulator: unsigned calls carry no signature, weights follow asset."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from binance_pm import (
    AssetIndexPrice,
    Client,
    CollateralRate,
    CollateralTier,
    InvalidParameterError,
    TieredCollateralRate,
    WeightKind,
)
from binance_pm.testing import FakeBinance

from ._wire import last, payload
from .conftest import ClientFactory

INDEX = "/sapi/v1/portfolio/asset-index-price"


async def test_collateral_rates_unsigned(client: Client, fake_binance: FakeBinance) -> None:
    """v1 collateral rates: no query at all (no timestamp, no signature), API key header sent."""
    rates = await client.market.collateral_rates()
    req = last(fake_binance, "/sapi/v1/portfolio/collateralRate")
    assert req.query == "" and req.headers["X-MBX-APIKEY"] == fake_binance.api_key
    assert rates[0] == CollateralRate(asset="USDC", collateral_rate=Decimal("1.0000"))
    assert all(isinstance(r.collateral_rate, Decimal) for r in rates)
    assert fake_binance.used("IP", "/sapi/v1/portfolio/collateralRate") == 50


async def test_collateral_rates_need_no_secret(make_client: ClientFactory, fake_binance: FakeBinance) -> None:
    """A client with an API key and no secret can read the unsigned market data."""
    client = make_client(api_secret=None)
    assert len(await client.market.collateral_rates()) == 3
    assert len(await client.market.asset_index_prices(asset="BTC")) == 1


async def test_tiered_collateral_rates_signed(client: Client, fake_binance: FakeBinance) -> None:
    """v2 tiered rates are signed (recvWindow, timestamp, signature) and parse into tiers."""
    (bnb,) = await client.market.tiered_collateral_rates(recv_window=3000)
    assert payload(last(fake_binance, "/sapi/v2/portfolio/collateralRate")) == "recvWindow=3000"
    assert bnb == TieredCollateralRate(asset="BNB", tiers=(
        CollateralTier(Decimal("0"), Decimal("1000"), Decimal("1"), Decimal("0")),
        CollateralTier(Decimal("1000"), Decimal("2000"), Decimal("0.9"), Decimal("0")),
    ))


async def test_asset_index_price_one_asset_weighs_1(client: Client, fake_binance: FakeBinance) -> None:
    """With asset: query is exactly asset=BTC, unsigned, and it costs IP weight 1."""
    (btc,) = await client.market.asset_index_prices(asset="BTC")
    assert last(fake_binance, INDEX).query == "asset=BTC"
    assert btc == AssetIndexPrice(
        asset="BTC", price=Decimal("28251.9136906"),
        time=datetime(2023, 5, 8, 3, 58, 58, 121000, tzinfo=UTC),
    )
    assert fake_binance.used("IP", INDEX) == 1
    usage = {u.key: u.used for u in client.weights.for_kind(WeightKind.IP)}
    assert usage[f"IP:{INDEX}"] == 1


async def test_asset_index_price_all_assets_weighs_50(client: Client, fake_binance: FakeBinance) -> None:
    """Without asset: empty query and IP weight 50, on the client's books and the server's."""
    prices = await client.market.asset_index_prices()
    assert last(fake_binance, INDEX).query == ""
    assert [p.asset for p in prices] == ["BTC", "ETH"]
    assert fake_binance.used("IP", INDEX) == 50
    usage = {u.key: u.used for u in client.weights.for_kind(WeightKind.IP)}
    assert usage[f"IP:{INDEX}"] == 50


async def test_asset_index_price_unknown_asset(client: Client, fake_binance: FakeBinance) -> None:
    """An asset the simulator does not know is -1121, raised as InvalidParameterError."""
    with pytest.raises(InvalidParameterError) as info:
        await client.market.asset_index_prices(asset="NOPE")
    assert info.value.code == -1121
