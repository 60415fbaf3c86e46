"""``client.market``: Portfolio Margin collateral rates and asset index prices.

The v1 collateral rates and the index prices are MARKET_DATA calls: API key header only, no
timestamp or signature, so no ``recv_window``. The tiered (v2) rates are signed.
"""

from __future__ import annotations

from . import _catalogue as c
from ._config import NOT_GIVEN, NotGivenType, Timeout
from ._models import AssetIndexPrice, CollateralRate, TieredCollateralRate, many
from ._session import Session

__all__ = ["Market"]


class Market:
    """Collateral-rate and index-price data. Reach it as ``client.market``."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    async def collateral_rates(
        self,
        *,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> tuple[CollateralRate, ...]:
        """Collateral rate of every asset (unsigned, API key only).

        ``GET /sapi/v1/portfolio/collateralRate``, weight IP 50.
        """
        return await self._session.request(
            c.COLLATERAL_RATES, {}, many(CollateralRate.from_json),
            timeout=timeout, max_wait=max_wait,
        )

    async def tiered_collateral_rates(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> tuple[TieredCollateralRate, ...]:
        """PM Pro collateral rates by holding tier, for every asset (signed).

        ``GET /sapi/v2/portfolio/collateralRate``, weight IP 50.
        """
        return await self._session.request(
            c.TIERED_COLLATERAL_RATES, {}, many(TieredCollateralRate.from_json),
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def asset_index_prices(
        self,
        *,
        asset: str | None = None,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> tuple[AssetIndexPrice, ...]:
        """Index price of ``asset``, or of every asset (unsigned, API key only).

        ``GET /sapi/v1/portfolio/asset-index-price``, weight IP 1 with ``asset``, IP 50 without.
        """
        return await self._session.request(
            c.ASSET_INDEX_PRICE, {"asset": asset}, many(AssetIndexPrice.from_json),
            timeout=timeout, max_wait=max_wait,
        )
