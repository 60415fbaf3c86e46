"""``client.account``: the signed Portfolio Margin Pro account endpoints."""

from __future__ import annotations

from ._catalogue import PM_LOAN, REPAY, RepaySource
from ._config import NOT_GIVEN, NotGivenType, Timeout
from ._models import PmLoan, RepayResult
from ._session import Session

__all__ = ["Account"]


class Account:
    """Account, loan and repayment endpoints. Reach it as ``client.account``."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

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
            PM_LOAN, {}, PmLoan.from_json,
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
            REPAY, {"from_": from_}, RepayResult.from_json,
            recv_window=recv_window, timeout=timeout, max_wait=max_wait,
        )
