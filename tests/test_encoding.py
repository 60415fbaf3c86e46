"""The query is encoded once, signed, and sent byte for byte; the simulator checks the bytes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binance_pm import Client, RepaySource
from binance_pm._encoding import encode_pairs, format_value, quote_value
from binance_pm._endpoints import Endpoint, Param, Weight
from binance_pm.limits import WeightKind
from binance_pm.testing import ROUTES, FakeBinance, route
from binance_pm.testing._state import AccountState

from ._wire import last_call

ECHO_PATH = "/sapi/v1/test/echo"
ECHO = Endpoint(
    "echo", "POST", ECHO_PATH, Weight(WeightKind.IP, 1),
    params=(Param("text", "text"), Param("amount", "amount")),
)


@pytest.fixture(autouse=True)
def echo_route() -> Iterator[None]:
    @route("POST", ECHO_PATH, "IP", 1, params=("text", "amount"))
    def echo(state: AccountState, params: Mapping[str, str], now: int) -> Any:
        return dict(params)

    yield
    del ROUTES[("POST", ECHO_PATH)]


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        ("a b", "a%20b"),
        ("1+1=2", "1%2B1%3D2"),
        ("a/b&c=d", "a%2Fb%26c%3Dd"),
        ("100%", "100%25"),
        ("\uff11\uff12\uff13", "%EF%BC%91%EF%BC%92%EF%BC%93"),  # fullwidth 123
        ("line\r\nX-Evil: 1", "line%0D%0AX-Evil%3A%201"),
        ("~-_.", "~-_."),
    ],
)
async def test_awkward_values_signed_as_sent(
    text: str, wire: str, sim: FakeBinance, client: Client
) -> None:
    """Spaces, + / = & %, non-ASCII and CR/LF are percent-encoded once; the signature verifies."""
    echoed = await client._session.request(ECHO, {"text": text}, lambda d: d)
    assert echoed == {"text": text}
    assert last_call(sim).query.startswith(f"text={wire}&recvWindow=")
    assert last_call(sim).status == 200


def test_decimal_and_time_formatting() -> None:
    """Decimals never use exponents; datetimes become integer epoch ms; floats are refused."""
    assert format_value(Decimal("1E-8")) == "0.00000001"
    assert format_value(Decimal("1.500")) == "1.5"
    assert format_value(Decimal("1E+3")) == "1000"
    assert format_value(True) == "true"
    assert format_value(RepaySource.MARGIN) == "MARGIN"
    moment = datetime(2017, 7, 12, 2, 41, 59, 559000, tzinfo=UTC)
    assert format_value(moment) == "1499827319559"
    assert format_value(moment.astimezone(timezone(timedelta(hours=8)))) == "1499827319559"
    with pytest.raises(TypeError):
        format_value(0.1)
    with pytest.raises(ValueError):
        format_value(datetime(2020, 1, 1))
    with pytest.raises(ValueError):
        format_value(Decimal("NaN"))


def test_encode_pairs_keeps_order() -> None:
    """Order on the wire is the order given: the signature depends on it."""
    assert encode_pairs([("b", 1), ("a", "x y")]) == "b=1&a=x%20y"
    assert quote_value("é") == "%C3%A9"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=40), amount=st.decimals(allow_nan=False, allow_infinity=False))
def test_any_text_round_trips_through_signature_check(text: str, amount: Decimal) -> None:
    """Any unicode text and any finite Decimal arrive intact and pass the signature check."""
    import asyncio

    async def run() -> None:
        async with FakeBinance() as sim, Client(
            api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url
        ) as client:
            echoed = await client._session.request(ECHO, {"text": text, "amount": amount}, dict)
            assert echoed["text"] == text
            assert Decimal(echoed["amount"]) == amount

    asyncio.run(run())
