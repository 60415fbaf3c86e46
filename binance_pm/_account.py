"""``client.account``: the signed Portfolio Margin Pro account endpoints.

Each method is one call into the session with its spec (which validates and names the parameters
on the wire) and its model's parser. Rules that tie two parameters together live here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from decimal import Decimal

from . import _catalogue as c
from ._catalogue import EarnAsset, EarnTransferType, FutureType, RepaySource, TransferSide
from ._config import NOT_GIVEN, NotGivenType, Timeout
from ._models import (
    AccountInfo,
    Ack,
    AssetLeverage,
    AutoRepayFuturesStatus,
    Balance,
    BnbTransferResult,
    DeltaMode,
    EarnAssetBalance,
    InterestRecord,
    MarginCallLevel,
    PmLoan,
    RepayHistoryPage,
    RepayRecord,
    RepayResult,
    SpanAccountInfo,
    many,
)
from ._paging import iter_interest_history, iter_repay_history
from ._session import Session
from ._validate import check_time_range, int_in, text, time_ms

__all__ = ["Account"]

Amount = Decimal | int | str  # exact forms only: a float is refused
Moment = datetime | int  # an aware datetime, or epoch milliseconds

_check_page_size = int_in(1, c.MAX_HISTORY_SIZE)


class Account:
    """Account, balance, loan, repayment, collection, transfer and switch endpoints.

    Reach it as ``client.account``. Every method takes keyword arguments only, plus the per-call
    ``recv_window`` (ms), ``timeout`` and ``max_wait`` (seconds to wait for weight) overrides.
    """

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    # -- account and balances ---------------------------------------------------------------

    async def account_info(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> AccountInfo:
        """Account equity, maintenance margin, uniMMR and status.

        ``GET /sapi/v1/portfolio/account``, weight UID 5.
        """
        return await self._session.request(
            c.ACCOUNT_INFO, {}, AccountInfo.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def span_account_info(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> SpanAccountInfo:
        """Account summary of a PM Pro SPAN account, maintenance margin per risk unit.

        ``GET /sapi/v2/portfolio/account``, weight IP 5.
        """
        return await self._session.request(
            c.SPAN_ACCOUNT_INFO, {}, SpanAccountInfo.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def balance(
        self,
        *,
        asset: str | None = None,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> tuple[Balance, ...]:
        """Balances per asset (all assets, or only ``asset``).

        ``GET /sapi/v1/portfolio/balance``, weight IP 20.
        """
        return await self._session.request(
            c.BALANCE, {"asset": asset}, many(Balance.from_json),
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def asset_leverage(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> tuple[AssetLeverage, ...]:
        """Leverage per asset in the Portfolio Margin account.

        ``GET /sapi/v1/portfolio/margin-asset-leverage``, weight IP 50.
        """
        return await self._session.request(
            c.ASSET_LEVERAGE, {}, many(AssetLeverage.from_json),
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    # -- bankruptcy loan ----------------------------------------------------------------------

    async def pm_loan(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> PmLoan:
        """Bankruptcy loan amount (``GET /sapi/v1/portfolio/pmLoan``, weight UID 500).

        ``amount`` is ``Decimal(0)`` when the account has no bankruptcy loan.
        """
        return await self._session.request(
            c.PM_LOAN, {}, PmLoan.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def repay(
        self,
        *,
        from_: RepaySource | str | None = None,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> RepayResult:
        """Repay the bankruptcy loan (``POST /sapi/v1/portfolio/repay``, weight UID 3000).

        ``from_`` is the source wallet, ``SPOT`` (Binance's default) or ``MARGIN``. Never retried
        once sent: a timeout or 5xx raises :class:`ExecutionUnknownError`; check
        ``repay_history`` before repaying again.
        """
        return await self._session.request(
            c.REPAY, {"from_": from_}, RepayResult.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def repay_history(
        self,
        *,
        start: Moment | None = None,
        end: Moment | None = None,
        current: int | None = None,
        size: int | None = None,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> RepayHistoryPage:
        """One page of bankruptcy-loan repayments.

        ``GET /sapi/v1/portfolio/pmloan-history``, weight IP 500. ``start``..``end`` may span at
        most 360 days; with neither Binance answers the last 30 days, with one of them the 30
        days after ``start`` / before ``end``. ``current`` is the page (from 1), ``size`` 1..100
        (Binance's default 10). :meth:`iter_repay_history` walks any range.
        """
        check_time_range(start, end, max_span_ms=c.REPAY_HISTORY_MAX_SPAN_MS)
        return await self._session.request(
            c.REPAY_HISTORY,
            {"start": start, "end": end, "current": current, "size": size},
            RepayHistoryPage.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    def iter_repay_history(
        self,
        *,
        start: Moment,
        end: Moment | None = None,
        page_size: int = c.MAX_HISTORY_SIZE,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> AsyncGenerator[RepayRecord, None]:
        """Every repayment from ``start`` to ``end`` (default: now), oldest first.

        ``async for row in client.account.iter_repay_history(start=...)``. Splits the range into
        windows of at most 360 days and reads each page by page (``repay_history`` calls, weight
        IP 500 each, paced by the weight limiter). Arguments are checked here, before iterating.
        """
        lo, hi = self._range(start, end)
        _check_page_size("page_size", page_size)

        async def fetch(a: int, b: int, page: int, n: int) -> RepayHistoryPage:
            return await self.repay_history(
                start=a, end=b, current=page, size=n,
                recv_window=recv_window, timeout=timeout, max_wait=max_wait,
            )

        return iter_repay_history(fetch, lo, hi, size=page_size)

    # -- negative-balance interest ------------------------------------------------------------

    async def interest_history(
        self,
        *,
        asset: str | None = None,
        start: Moment | None = None,
        end: Moment | None = None,
        size: int | None = None,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> tuple[InterestRecord, ...]:
        """Interest charged on futures negative balances (at most ``size`` rows, 1..100).

        ``GET /sapi/v1/portfolio/interest-history``, weight IP 50. There is no page parameter:
        use :meth:`iter_interest_history` for a complete range.
        """
        check_time_range(start, end)
        return await self._session.request(
            c.INTEREST_HISTORY,
            {"asset": asset, "start": start, "end": end, "size": size},
            many(InterestRecord.from_json),
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    def iter_interest_history(
        self,
        *,
        start: Moment,
        end: Moment | None = None,
        asset: str | None = None,
        page_size: int = c.MAX_HISTORY_SIZE,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> AsyncGenerator[InterestRecord, None]:
        """Every interest record from ``start`` to ``end`` (default: now), oldest first.

        Walks 30-day windows and, inside each, moves past the rows already read using their
        ``interestAccruedTime`` (see ``binance_pm._paging``); ``interest_history`` calls, weight
        IP 50 each, paced by the weight limiter.
        """
        lo, hi = self._range(start, end)
        _check_page_size("page_size", page_size)
        if asset is not None:
            text("asset", asset)

        async def fetch(a: int, b: int, n: int) -> tuple[InterestRecord, ...]:
            return await self.interest_history(
                asset=asset, start=a, end=b, size=n,
                recv_window=recv_window, timeout=timeout, max_wait=max_wait,
            )

        return iter_interest_history(fetch, lo, hi, size=page_size)

    def _range(self, start: Moment, end: Moment | None) -> tuple[int, int]:
        lo = time_ms("start", start)
        hi = self._session.clock.now_ms() if end is None else time_ms("end", end)
        check_time_range(lo, hi)
        return lo, hi

    # -- collection and transfers ---------------------------------------------------------------

    async def auto_collection(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> Ack:
        """Move every asset from the futures wallets into the margin account (BNB stays in UM).

        ``POST /sapi/v1/portfolio/auto-collection``, weight IP 1500; Binance allows 500 calls
        per rolling hour. Never retried once sent.
        """
        return await self._session.request(
            c.AUTO_COLLECTION, {}, Ack.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def asset_collection(
        self,
        *,
        asset: str,
        amount: Amount | None = None,
        future_type: FutureType | str | None = None,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> Ack:
        """Move one asset from the futures wallets into the margin account (not BNB).

        ``POST /sapi/v1/portfolio/asset-collection``, weight IP 60. Give ``amount`` and
        ``future_type`` (``UM``, ``CM``, ``OPTION`` for SPAN accounts) together to collect that
        much from one wallet, or neither to collect all of it. Never retried once sent.
        """
        if (amount is None) != (future_type is None):
            raise TypeError("asset_collection(): give amount and future_type together, or neither")
        if isinstance(asset, str) and asset.upper() == "BNB":
            raise ValueError("asset must not be BNB: asset-collection does not move BNB")
        return await self._session.request(
            c.ASSET_COLLECTION,
            {"asset": asset, "amount": amount, "future_type": future_type},
            Ack.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def bnb_transfer(
        self,
        *,
        amount: Amount,
        transfer_side: TransferSide | str,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> BnbTransferResult:
        """Move BNB between the margin account and the USDⓈ-M account (``TO_UM``/``FROM_UM``).

        ``POST /sapi/v1/portfolio/bnb-transfer``, weight IP 1500; Binance allows 2 calls per
        rolling 10 minutes. Never retried once sent.
        """
        return await self._session.request(
            c.BNB_TRANSFER,
            {"amount": amount, "transfer_side": transfer_side},
            BnbTransferResult.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def earn_asset_balance(
        self,
        *,
        transfer_type: EarnTransferType | str,
        asset: EarnAsset | str = EarnAsset.LDUSDT,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> EarnAssetBalance:
        """How much LDUSDT can move in ``transfer_type``'s direction (Binance takes only LDUSDT).

        ``GET /sapi/v1/portfolio/earn-asset-balance``, weight IP 1500.
        """
        return await self._session.request(
            c.EARN_ASSET_BALANCE,
            {"asset": asset, "transfer_type": transfer_type},
            EarnAssetBalance.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def earn_asset_transfer(
        self,
        *,
        asset: EarnAsset | str,
        transfer_type: EarnTransferType | str,
        amount: Amount,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> Ack:
        """Move LDUSDT or RWUSD between Binance Earn and the PM account, as collateral.

        ``POST /sapi/v1/portfolio/earn-asset-transfer``, weight UID 1500. Never retried once sent.
        """
        return await self._session.request(
            c.EARN_ASSET_TRANSFER,
            {"asset": asset, "transfer_type": transfer_type, "amount": amount},
            Ack.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    # -- futures negative balance -----------------------------------------------------------------

    async def auto_repay_futures(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> AutoRepayFuturesStatus:
        """Whether futures negative balances are repaid automatically.

        ``GET /sapi/v1/portfolio/repay-futures-switch``, weight IP 30.
        """
        return await self._session.request(
            c.AUTO_REPAY_FUTURES, {}, AutoRepayFuturesStatus.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def set_auto_repay_futures(
        self,
        *,
        auto_repay: bool,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> Ack:
        """Turn automatic repayment of futures negative balances on or off.

        ``POST /sapi/v1/portfolio/repay-futures-switch``, weight IP 1500; Binance allows 20 calls
        per day. Never retried once sent.
        """
        return await self._session.request(
            c.SET_AUTO_REPAY_FUTURES, {"auto_repay": auto_repay}, Ack.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def repay_futures_negative_balance(
        self,
        *,
        from_: RepaySource | str | None = None,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> Ack:
        """Repay the futures negative balance from ``SPOT`` (Binance's default) or ``MARGIN``.

        ``POST /sapi/v1/portfolio/repay-futures-negative-balance``, weight IP 1500. Never retried
        once sent.
        """
        return await self._session.request(
            c.REPAY_FUTURES_NEGATIVE_BALANCE, {"from_": from_}, Ack.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    # -- margin call level and delta mode -------------------------------------------------------

    async def margin_call_level(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> MarginCallLevel:
        """The uniMMR that triggers a margin-call notification; ``level`` is None when unset.

        ``GET /sapi/v1/portfolio/margin-call-level``, weight IP 1500.
        """
        return await self._session.request(
            c.MARGIN_CALL_LEVEL, {}, MarginCallLevel.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def set_margin_call_level(
        self,
        *,
        level: Amount,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> MarginCallLevel:
        """Set the margin-call uniMMR, within [1.1, 2.0].

        ``POST /sapi/v1/portfolio/margin-call-level``, weight IP 1500. Never retried once sent.
        """
        return await self._session.request(
            c.SET_MARGIN_CALL_LEVEL, {"level": level}, MarginCallLevel.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def delete_margin_call_level(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> Ack:
        """Remove the margin-call level (idempotent in effect, so retried like a GET).

        ``DELETE /sapi/v1/portfolio/margin-call-level``, weight IP 1500.
        """
        return await self._session.request(
            c.DELETE_MARGIN_CALL_LEVEL, {}, Ack.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def delta_mode(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> DeltaMode:
        """Whether Delta mode is on.

        ``GET /sapi/v1/portfolio/delta-mode``, weight IP 1500.
        """
        return await self._session.request(
            c.DELTA_MODE, {}, DeltaMode.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )

    async def set_delta_mode(
        self,
        *,
        delta_enabled: bool,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> Ack:
        """Switch Delta mode on or off (PM PRO / PM RETAIL accounts).

        ``POST /sapi/v1/portfolio/delta-mode``, weight IP 1500. Never retried once sent.
        """
        return await self._session.request(
            c.SET_DELTA_MODE, {"delta_enabled": delta_enabled}, Ack.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )
