"""CLI output: exact JSON values and aligned tables, from the models the client returns."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from binance_pm import AccountStatus, CollateralTier, PmLoan, RepayRecord, TieredCollateralRate
from binance_pm._cli import main
from binance_pm._cli._output import JsonOutput, TableOutput, iso, jsonable, table


def test_iso_is_utc_with_milliseconds_and_z() -> None:
    """Any aware datetime prints in UTC, to the millisecond, with a Z."""
    moment = datetime(2026, 1, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert iso(moment) == "2026-01-01T08:30:00.123Z"


def test_jsonable_keeps_amounts_exact_and_drops_raw() -> None:
    """Decimals become their exact strings (no exponent, no float), enums their value, no raw."""
    row = RepayRecord(asset="USDT", amount=Decimal("0.00000001"),
                      repay_time=datetime(2026, 1, 1, tzinfo=UTC), raw={"x": 1})
    assert jsonable(row) == {"asset": "USDT", "amount": "0.00000001",
                             "repay_time": "2026-01-01T00:00:00.000Z"}
    assert jsonable(Decimal("1E+3")) == "1000"
    assert jsonable(AccountStatus.NORMAL) == "NORMAL"


def test_json_output_one_line_per_row() -> None:
    """Rows stream as JSON lines; a value is one line too."""
    stream = io.StringIO()
    out = JsonOutput(stream)
    out.row(PmLoan(asset="BUSD", amount=Decimal("1.5")))
    out.row(PmLoan(asset="USDT", amount=Decimal("2")))
    out.close()
    assert [json.loads(line) for line in stream.getvalue().splitlines()] == [
        {"asset": "BUSD", "amount": "1.5"}, {"asset": "USDT", "amount": "2"},
    ]


def test_table_aligns_decimal_points_and_marks_missing_values() -> None:
    """Numbers line up on the point whatever their lengths; None prints as '-'."""
    rows = [PmLoan(asset="BUSD", amount=Decimal("579.45")), PmLoan(asset="X", amount=Decimal("3")),
            PmLoan(asset="ETH", amount=Decimal("0.001"))]
    assert table(rows).splitlines() == [
        "asset  amount",
        "BUSD   579.45",
        "X        3",
        "ETH      0.001",
    ]
    assert table({"level": None}) == "level  -"


def test_table_expands_one_nested_list_and_prefixes_clashing_names() -> None:
    """A model holding one list of models: a row per child, parent fields repeated."""
    tier = CollateralTier(tier_floor=Decimal(0), tier_cap=Decimal(10), collateral_rate=Decimal("0.9"),
                          cum=Decimal(0))
    rate = TieredCollateralRate(asset="BNB", tiers=(tier, tier))
    lines = table([rate]).splitlines()
    assert lines[0].split() == ["asset", "tier_floor", "tier_cap", "collateral_rate", "cum"]
    assert len(lines) == 3
    clash = table([{"asset": "A", "rows": [{"asset": "B"}]}])
    assert clash.splitlines() == ["asset  rows.asset", "A      B"]


def test_empty_table_says_so() -> None:
    """A walk with no rows prints "(no rows)" rather than nothing."""
    stream = io.StringIO()
    TableOutput(stream).close()
    assert stream.getvalue() == "(no rows)\n"


def test_readme_shows_the_current_help(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's `binance-pm --help` block is what the command prints at 100 columns."""
    monkeypatch.setenv("COLUMNS", "100")
    out = io.StringIO()
    assert main(["--help"], stdout=out) == 0
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ binance-pm --help\n", 1)[1].split("\n```", 1)[0]
    assert block == out.getvalue().rstrip("\n"), (
        "README.md is stale: paste the output of `COLUMNS=100 binance-pm --help` into it"
    )
