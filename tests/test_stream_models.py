"""Stream frames to models: exact decimals, aware UTC times, unknown levels and types kept."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from binance_pm import AccountUpdate, RiskLevel, RiskLevelChange, UnknownEvent
from binance_pm._stream import reconnect_delay
from binance_pm._stream_models import MalformedFrame, decode_frame, parse_event

# Binance's documented examples (binance-pm-pro-api.md section 7.3).
ACCOUNT_FRAME = ('{"e":"PM_PRO_ACCOUNT_UPDATE","E":1736996475556,"u":"1.29","eq":"12000.5",'
                 '"ae":"11800.25","im":"4000","mm":"930.5","avb":"8000.5","vmw":"7500"}')
RISK_FRAME = ('{"e":"riskLevelChange","E":1736996475556,"u":"1.08","s":"MARGIN_CALL",'
              '"eq":"1200.5","ae":"1180.2","m":"1111.2"}')


def _parse(frame: str) -> object:
    return parse_event(decode_frame(frame))


def test_account_update_exact() -> None:
    """Every amount is the exact Decimal of its string; E is an aware UTC datetime."""
    event = _parse(ACCOUNT_FRAME)
    assert event == AccountUpdate(
        event_time=datetime(2025, 1, 16, 3, 1, 15, 556000, tzinfo=UTC),
        uni_mmr=Decimal("1.29"), equity=Decimal("12000.5"), actual_equity=Decimal("11800.25"),
        initial_margin=Decimal("4000"), maintenance_margin=Decimal("930.5"),
        available_balance=Decimal("8000.5"), virtual_max_withdraw=Decimal("7500"),
    )
    assert isinstance(event, AccountUpdate)
    assert str(event.actual_equity) == "11800.25" and event.event_time.tzinfo is UTC
    assert event.raw["vmw"] == "7500"


def test_risk_level_change_known_level() -> None:
    """riskLevelChange: level is a RiskLevel member, maintenance margin read from "m"."""
    event = _parse(RISK_FRAME)
    assert isinstance(event, RiskLevelChange)
    assert event.level is RiskLevel.MARGIN_CALL
    assert (event.uni_mmr, event.equity, event.actual_equity, event.maintenance_margin) == (
        Decimal("1.08"), Decimal("1200.5"), Decimal("1180.2"), Decimal("1111.2"))


def test_unknown_risk_level_kept_as_string() -> None:
    """A level Binance adds later is kept as the plain string, not dropped or refused."""
    event = _parse(RISK_FRAME.replace("MARGIN_CALL", "NORMAL"))
    assert isinstance(event, RiskLevelChange)
    assert event.level == "NORMAL" and not isinstance(event.level, RiskLevel)


def test_event_time_as_string() -> None:
    """E sent as a string of digits (seen on the fapi streams) parses the same."""
    event = _parse(ACCOUNT_FRAME.replace('"E":1736996475556', '"E":"1736996475556"'))
    assert isinstance(event, AccountUpdate)
    assert event.event_time == datetime(2025, 1, 16, 3, 1, 15, 556000, tzinfo=UTC)


def test_unknown_event_type_delivered_raw() -> None:
    """An event type not modelled yet (uniMMRDrop) comes out as UnknownEvent with the frame."""
    event = _parse('{"e":"uniMMRDrop","E":1,"x":"0.1"}')
    assert event == UnknownEvent(type="uniMMRDrop")
    assert isinstance(event, UnknownEvent) and event.raw["x"] == "0.1"


@pytest.mark.parametrize("frame", [
    "not json",
    "[1, 2]",
    '{"E": 1}',
    '{"e": 5}',
    ACCOUNT_FRAME.replace('"u":"1.29",', ""),
    ACCOUNT_FRAME.replace('"1.29"', '"abc"'),
    ACCOUNT_FRAME.replace('"1.29"', "1.29e"),
    RISK_FRAME.replace('"s":"MARGIN_CALL"', '"s":3'),
    ACCOUNT_FRAME.replace("1736996475556", "true"),
    ACCOUNT_FRAME.replace('"4000"', '"NaN"'),
])
def test_malformed_frames_refused(frame: str) -> None:
    """Not an object with a string e, or a known event with a bad field: MalformedFrame."""
    with pytest.raises(MalformedFrame):
        _parse(frame)


def test_bare_json_number_stays_exact() -> None:
    """An amount sent as a bare JSON number is read as an exact Decimal, never a float."""
    data = json.loads(ACCOUNT_FRAME)
    frame = json.dumps(data).replace('"12000.5"', "12000.10000000000000001")
    event = _parse(frame)
    assert isinstance(event, AccountUpdate)
    assert event.equity == Decimal("12000.10000000000000001")


def test_reconnect_delay_formula() -> None:
    """First attempt at once; then uniform(d/2, d), d = 0.25 * 2**(n-1), capped."""
    rng = random.Random(1)
    assert reconnect_delay(0, 30.0, rng) == 0.0
    for attempt, d in ((1, 0.25), (2, 0.5), (3, 1.0), (9, 30.0), (60, 30.0)):
        for _ in range(50):
            assert d / 2 <= reconnect_delay(attempt, 30.0, rng) <= d
