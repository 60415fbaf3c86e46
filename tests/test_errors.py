"""Error answers become the right exception with status, code and message; retries as promised."""

from __future__ import annotations

import pytest

from binance_pm import (
    APIError,
    AuthenticationError,
    BinanceError,
    Client,
    ExecutionUnknownError,
    InvalidParameterError,
    InvalidResponseError,
    PortfolioMarginError,
    ServerError,
    TimestampError,
    TransportError,
)
from binance_pm._errors import api_error
from binance_pm.testing import FakeBinance, Fault

PM_LOAN = "/sapi/v1/portfolio/pmLoan"
REPAY = "/sapi/v1/portfolio/repay"


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, -1021, TimestampError),
        (400, -1022, AuthenticationError),
        (401, -2015, AuthenticationError),
        (401, -2014, AuthenticationError),
        (400, -1099, AuthenticationError),
        (400, -1102, InvalidParameterError),
        (400, -1131, InvalidParameterError),
        (400, -21004, PortfolioMarginError),
        (503, None, ServerError),
        (500, -1001, ServerError),
        (200, -1007, ServerError),
        (403, None, APIError),
        (400, -3041, APIError),
    ],
)
def test_error_class_mapping(status: int, code: int | None, cls: type[APIError]) -> None:
    """One function picks the class from (HTTP status, Binance code)."""
    err = api_error(status, code, "m", method="GET", path="/p")
    assert type(err) is cls and err.status == status and err.code == code


async def test_business_error_keeps_code(sim: FakeBinance, client: Client) -> None:
    """-21004 (no loan to repay) is a PortfolioMarginError with code and msg, not a string."""
    await client.account.repay()
    with pytest.raises(PortfolioMarginError) as info:
        await client.account.repay()
    assert info.value.code == -21004 and info.value.status == 400
    assert "bankruptcy loan" in info.value.message
    assert len(sim.executed(REPAY)) == 1


@pytest.mark.parametrize("status", [403, 502, 504])
async def test_html_error_page_on_get(status: int, sim: FakeBinance, client: Client) -> None:
    """A CDN's HTML page: an APIError with the status and a short text excerpt, no code."""
    sim.inject(Fault.html(status, path=PM_LOAN, times=None))
    with pytest.raises(APIError) as info:
        await client.account.pm_loan()
    assert info.value.status == status and info.value.code is None
    assert "cloudfront error" in info.value.message and "<html>" in info.value.message
    assert len(info.value.message) <= 200
    expected_sends = 3 if status >= 500 else 1  # 5xx retried (max_retries=2), 403 not
    assert sum(1 for r in sim.requests if r.path == PM_LOAN) == expected_sends


async def test_empty_body_error(sim: FakeBinance, client: Client) -> None:
    """An empty 400 body still gives an APIError saying so."""
    sim.inject(Fault.status_code(400, body=b"", path=PM_LOAN))
    with pytest.raises(APIError) as info:
        await client.account.pm_loan()
    assert info.value.message == "(empty body)" and info.value.code is None


async def test_200_with_error_body(sim: FakeBinance, client: Client) -> None:
    """A 200 carrying {"code", "msg"} is an error, not a result."""
    sim.inject(Fault.status_code(200, body='{"code":-1102,"msg":"Mandatory parameter"}', path=PM_LOAN))
    with pytest.raises(InvalidParameterError) as info:
        await client.account.pm_loan()
    assert info.value.code == -1102 and info.value.status == 200


async def test_200_non_json_get(sim: FakeBinance, client: Client) -> None:
    """A 200 that is not JSON: InvalidResponseError for a GET."""
    sim.inject(Fault.status_code(200, body="<html>ok</html>", path=PM_LOAN, content_type="text/html"))
    with pytest.raises(InvalidResponseError, match="pm_loan: response is not JSON"):
        await client.account.pm_loan()


async def test_200_missing_field_names_endpoint(sim: FakeBinance, client: Client) -> None:
    """A success body without a required field names the endpoint and the field."""
    sim.inject(Fault.status_code(200, body='{"asset":"BUSD"}', path=PM_LOAN))
    with pytest.raises(InvalidResponseError, match=r"pm_loan.*'amount'"):
        await client.account.pm_loan()


async def test_200_non_json_post_is_unknown(sim: FakeBinance, client: Client) -> None:
    """A 200 for a POST that we cannot read executed: ExecutionUnknownError, never a failure."""
    sim.inject(Fault.status_code(200, body="garbage", execute=True, path=REPAY))
    with pytest.raises(ExecutionUnknownError):
        await client.account.repay()
    assert len(sim.executed(REPAY)) == 1


@pytest.mark.parametrize("code", [-1000, -1006, -1007])
async def test_unknown_outcome_codes_on_post(code: int, sim: FakeBinance, client: Client) -> None:
    """-1000/-1006/-1007 on a POST: ExecutionUnknownError carrying the code, sent once."""
    sim.inject(Fault.status_code(400, body=f'{{"code":{code},"msg":"x"}}', execute=True, path=REPAY))
    with pytest.raises(ExecutionUnknownError) as info:
        await client.account.repay()
    assert info.value.code == code
    assert sum(1 for r in sim.requests if r.path == REPAY) == 1


async def test_5xx_before_execution_on_post_is_still_unknown(sim: FakeBinance, client: Client) -> None:
    """A 503 on a POST is unknown even when it did not execute: the client cannot tell."""
    sim.inject(Fault.status_code(503, execute=False, path=REPAY))
    with pytest.raises(ExecutionUnknownError):
        await client.account.repay()
    assert sim.executed(REPAY) == []


async def test_get_gives_up_after_retries(sim: FakeBinance, client: Client) -> None:
    """A GET that keeps failing with 503: ServerError after max_retries + 1 attempts."""
    sim.inject(Fault.status_code(503, body='{"code":-1008,"msg":"busy"}', path=PM_LOAN, times=None))
    with pytest.raises(ServerError) as info:
        await client.account.pm_loan()
    assert info.value.code == -1008
    assert sum(1 for r in sim.requests if r.path == PM_LOAN) == 3


def test_every_error_is_a_binance_error() -> None:
    for cls in (APIError, ExecutionUnknownError, TransportError, InvalidResponseError):
        assert issubclass(cls, BinanceError)
