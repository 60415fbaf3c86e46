"""Simulated market-data endpoints: collateral rates (v1 unsigned, v2 tiered) and index prices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._routes import route
from ._state import AccountState, SimError


def _index_weight(params: Mapping[str, str]) -> int:
    return 1 if params.get("asset") else 50


@route("GET", "/sapi/v1/portfolio/collateralRate", "IP", 50, signed=False)
def collateral_rates(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return [{"asset": a, "collateralRate": format(r, "f")} for a, r in state.collateral_rates.items()]


@route("GET", "/sapi/v2/portfolio/collateralRate", "IP", 50)
def tiered_collateral_rates(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return [
        {"asset": asset, "collateralInfo": [
            {"tierFloor": format(lo, "f"), "tierCap": format(hi, "f"),
             "collateralRate": format(rate, "f"), "cum": format(cum, "f")}
            for lo, hi, rate, cum in tiers
        ]}
        for asset, tiers in state.collateral_tiers.items()
    ]


@route("GET", "/sapi/v1/portfolio/asset-index-price", "IP", _index_weight, signed=False,
       params=("asset",))
def asset_index_prices(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    wanted = params.get("asset")
    if wanted is not None and wanted not in state.index_prices:
        raise SimError(-1121, "Invalid symbol.")
    return [
        {"asset": a, "assetIndexPrice": format(p, "f"), "time": t}
        for a, (p, t) in state.index_prices.items()
        if wanted is None or a == wanted
    ]
