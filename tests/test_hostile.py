"""Hostile input: random parameter values and random response bodies never crash the session.

Parameters: a clear ValueError/TypeError before sending, or a correct request. Bodies: a correct
model or a binance_pm exception, never a crash and never a silently wrong model.
"""

from __future__ import annotations

import asyncio
import json
import math
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binance_pm import BinanceError, Client, PmLoan
from binance_pm._validate import check_recv_window, positive_decimal
from binance_pm.testing import FakeBinance, Fault

PM_LOAN = "/sapi/v1/portfolio/pmLoan"
SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.decimals(), st.binary(max_size=10), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.sampled_from([10**400, -(10**400), "1e999", "NaN", "-Infinity", "", "\r\n", "\uff11"]),
)


@SETTINGS
@given(value=junk)
def test_amount_check_accepts_only_finite_positive(value: Any) -> None:
    """positive_decimal: a finite positive Decimal back, or ValueError/TypeError; nothing else."""
    try:
        result = positive_decimal("amount", value)
    except (ValueError, TypeError) as err:
        assert "amount" in str(err)
    else:
        assert isinstance(result, Decimal) and result.is_finite() and result > 0
        assert not isinstance(value, float | bool)


@SETTINGS
@given(value=junk)
def test_recv_window_check(value: Any) -> None:
    try:
        result = check_recv_window(value)
    except (ValueError, TypeError):
        return
    assert isinstance(result, int) and 0 < result <= 60_000


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)
loan_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"asset": json_values, "amount": json_values}),
    st.fixed_dictionaries({"asset": st.text(max_size=8), "amount": st.sampled_from(
        ["NaN", "Infinity", "-1", "1,000.5", "", " ", "0x10", "1e5", "579.45", "0"])}),
)


@settings(max_examples=120, deadline=None)
@given(body=loan_bodies)
def test_random_pm_loan_bodies(body: Any) -> None:
    """Any JSON answer: a PmLoan whose fields match the body exactly, or a BinanceError."""

    async def run() -> None:
        async with FakeBinance() as sim, Client(
            api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url
        ) as client:
            sim.inject(Fault.status_code(200, body=json.dumps(body), path=PM_LOAN, times=None))
            try:
                loan = await client.account.pm_loan()
            except BinanceError:
                return
            assert isinstance(loan, PmLoan)
            assert isinstance(body, dict) and loan.asset == body["asset"]
            assert isinstance(body["asset"], str)
            assert isinstance(loan.amount, Decimal) and loan.amount.is_finite()
            raw = body["amount"]
            if isinstance(raw, str):
                assert loan.amount == Decimal(raw.replace(",", ""))
            else:
                assert not isinstance(raw, bool) and isinstance(raw, int | float)
                assert math.isclose(float(loan.amount), raw)

    _run(run())
