"""A 200 whose fields are null, "", or of the wrong type: an error naming endpoint and field.

Never a bare TypeError or decimal.InvalidOperation text without the field, and never a silently
empty page when Binance's ``total`` says rows exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from binance_pm import Client, ExecutionUnknownError, InvalidResponseError
from binance_pm._models import FieldError, PmLoan
from binance_pm.testing import FakeBinance, Fault

PM = "/sapi/v1/portfolio"
ACCOUNT = {
    "uniMMR": "5167.92", "accountEquity": "1", "actualEquity": "1", "accountMaintMargin": "1",
    "accountStatus": "NORMAL", "accountType": "PM_1",
}
SPAN = {**ACCOUNT, "riskUnitMMList": [{"asset": "BTC", "uniMaintainUsd": "1"}],
        "marginMM": "0", "otherMM": "0", "accountType": "PM_3"}
BALANCE = {
    "asset": "BTC", "totalWalletBalance": "1", "crossMarginAsset": "1", "crossMarginBorrowed": "0",
    "crossMarginFree": "1", "crossMarginInterest": "0", "crossMarginLocked": "0",
    "umWalletBalance": "0", "umUnrealizedPNL": "0", "cmWalletBalance": "0",
    "cmUnrealizedPNL": "0", "updateTime": 0, "negativeBalance": "0",
}
Call = Callable[[Client], Awaitable[Any]]


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


CASES: list[tuple[str, str, Any, Call, str, str]] = [
    # (id, path, body, call, endpoint name, field path)
    ("null-amount", f"{PM}/account", _with(ACCOUNT, uniMMR=None),
     lambda c: c.account.account_info(), "account_info", "uniMMR"),
    ("empty-amount", f"{PM}/account", _with(ACCOUNT, accountEquity=""),
     lambda c: c.account.account_info(), "account_info", "accountEquity"),
    ("number-for-enum", f"{PM}/account", _with(ACCOUNT, accountStatus=5),
     lambda c: c.account.account_info(), "account_info", "accountStatus"),
    ("not-a-decimal", f"{PM}/pmLoan", {"asset": "BUSD", "amount": "12,3x"},
     lambda c: c.account.pm_loan(), "pm_loan", "amount"),
    ("empty-text", f"{PM}/pmLoan", {"asset": "", "amount": "1"},
     lambda c: c.account.pm_loan(), "pm_loan", "asset"),
    ("nested", "/sapi/v2/portfolio/account",
     _with(SPAN, riskUnitMMList=[{"asset": "BTC", "uniMaintainUsd": None}]),
     lambda c: c.account.span_account_info(), "span_account_info",
     "riskUnitMMList[0].uniMaintainUsd"),
    ("array-row", f"{PM}/balance", [BALANCE, _with(BALANCE, updateTime="soon")],
     lambda c: c.account.balance(), "balance", "[1].updateTime"),
    ("bool-for-int", f"{PM}/margin-asset-leverage", [{"asset": "BTC", "leverage": True}],
     lambda c: c.account.asset_leverage(), "asset_leverage", "[0].leverage"),
    ("no-rows", f"{PM}/pmloan-history", {"total": 3},
     lambda c: c.account.repay_history(), "repay_history", "rows"),
    ("null-rows", f"{PM}/pmloan-history", {"total": 3, "rows": None},
     lambda c: c.account.repay_history(), "repay_history", "rows"),
]


@pytest.mark.parametrize(("path", "body", "call", "endpoint", "field"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_unusable_field_is_named(
    client: Client, fake_binance: FakeBinance, path: str, body: Any, call: Call, endpoint: str, field: str
) -> None:
    """InvalidResponseError whose text names the endpoint and the field's path."""
    fake_binance.inject(Fault.status_code(200, body=json.dumps(body), path=path))
    with pytest.raises(InvalidResponseError, match=rf"{endpoint}: .*{re.escape(repr(field))}"):
        await call(client)


async def test_unusable_field_after_a_post_is_execution_unknown(
    client: Client, fake_binance: FakeBinance
) -> None:
    """A repay that executed but answered tranId null: outcome unknown, naming tranId."""
    fake_binance.inject(Fault.status_code(200, body='{"tranId": null}', execute=True, path=f"{PM}/repay"))
    with pytest.raises(ExecutionUnknownError, match=r"repay: .*'tranId'"):
        await client.account.repay()


def test_field_error_carries_the_path() -> None:
    """The model's own exception: a ValueError with the field's path and the reason apart."""
    with pytest.raises(FieldError) as info:
        PmLoan.from_json({"asset": "BUSD", "amount": None})
    assert isinstance(info.value, ValueError)
    assert (info.value.field, info.value.reason) == ("amount", "expected a decimal string, got null")


async def test_empty_page_when_total_is_zero_is_fine(client: Client, fake_binance: FakeBinance) -> None:
    """``{"total": 0}`` without rows is an empty page, as Binance sends it."""
    fake_binance.inject(Fault.status_code(200, body='{"total": 0}', path=f"{PM}/pmloan-history"))
    page = await client.account.repay_history()
    assert (page.total, page.rows) == (0, ())


async def test_walk_refuses_a_page_shorter_than_total_says(client: Client, fake_binance: FakeBinance) -> None:
    """total 25 at size 10 but page 1 holds 3 rows: an error, not a walk that ends early."""
    rows = [{"asset": "USDT", "amount": "1", "repayTime": 1704067200000 + i} for i in range(3)]
    fake_binance.inject(Fault.status_code(200, body=json.dumps({"total": 25, "rows": rows}),
                                 path=f"{PM}/pmloan-history"))
    with pytest.raises(InvalidResponseError, match="page 1 has 3 rows, but total 25 means 10"):
        async for _ in client.account.iter_repay_history(start=1704067200000, page_size=10):
            pass
