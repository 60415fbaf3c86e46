"""The session layer end to end through aiohttp against the simulator."""

from __future__ import annotations

import logging
from decimal import Decimal

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from binance_pm import (
    AuthenticationError,
    Client,
    ExecutionUnknownError,
    PmLoan,
    RepayResult,
    TimestampError,
)
from binance_pm.testing import FakeBinance, Fault

from ._wire import last_call
from .conftest import ClientFactory

REPAY = "/sapi/v1/portfolio/repay"
PM_LOAN = "/sapi/v1/portfolio/pmLoan"


async def test_pm_loan_hmac(client: Client, sim: FakeBinance) -> None:
    """pm_loan returns a typed PmLoan with an exact Decimal, signed with HMAC."""
    loan = await client.account.pm_loan()
    assert loan == PmLoan(asset="BUSD", amount=Decimal("579.45"))
    req = next(r for r in sim.requests if r.path == PM_LOAN)
    assert req.query.startswith("recvWindow=5000&timestamp=")
    assert req.query.split("&")[-1].startswith("signature=")
    assert req.headers["X-MBX-APIKEY"] == sim.api_key


async def test_pm_loan_zero_when_no_debt(client: Client, sim: FakeBinance) -> None:
    """No loan gives amount Decimal(0), not None or a string."""
    sim.state.loan_amount = Decimal(0)
    loan = await client.account.pm_loan()
    assert loan.amount == Decimal(0) and isinstance(loan.amount, Decimal)


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
async def test_pm_loan_with_private_keys(
    kind: str, sim: FakeBinance, make_client: ClientFactory
) -> None:
    """Ed25519 and RSA keys sign requests that the simulator verifies with the public key."""
    key = ed25519.Ed25519PrivateKey.generate() if kind == "ed25519" else rsa.generate_private_key(
        public_exponent=65537, key_size=2048
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    sim.add_key(f"{kind}-key", public_key_pem=public)
    client = make_client(api_key=f"{kind}-key", private_key=pem)
    assert (await client.account.pm_loan()).amount == Decimal("579.45")
    sig = last_call(sim).query.rsplit("signature=", 1)[1]
    assert "+" not in sig and "/" not in sig and "=" not in sig  # base64 percent-encoded


async def test_wrong_secret_is_authentication_error(make_client: ClientFactory) -> None:
    """A wrong secret gives AuthenticationError with code -1022 and the HTTP status."""
    client = make_client(api_secret="not-the-secret")
    with pytest.raises(AuthenticationError) as info:
        await client.account.pm_loan()
    assert info.value.code == -1022 and info.value.status == 400
    assert "signature=" not in str(info.value)


async def test_unknown_api_key(make_client: ClientFactory) -> None:
    """An unknown key gives -2015 as AuthenticationError."""
    client = make_client(api_key="nobody")
    with pytest.raises(AuthenticationError) as info:
        await client.account.pm_loan()
    assert info.value.code == -2015


@pytest.mark.parametrize("skew_ms", [5000, -5000, 120_000])
async def test_clock_skew_first_call_succeeds(
    skew_ms: int, sim: FakeBinance, make_client: ClientFactory
) -> None:
    """A local clock 5 s (or 2 min) off the server's still succeeds on the very first call."""
    sim.skew_ms = skew_ms
    client = make_client()
    assert (await client.account.pm_loan()).asset == "BUSD"
    assert abs(client.clock.offset_ms - skew_ms) < 250
    assert sim.status_counts[400] == 0


async def test_minus_1021_resyncs_and_retries_once(sim: FakeBinance, client: Client) -> None:
    """The server clock jumps after sync: -1021, then a resync and one successful retry."""
    await client.account.pm_loan()
    sim.skew_ms = 30_000
    assert (await client.account.pm_loan()).asset == "BUSD"
    codes = [r.status for r in sim.requests if r.path == PM_LOAN]
    assert codes == [200, 400, 200]
    assert sum(1 for r in sim.requests if r.path == "/api/v3/time") >= 4  # initial + resync


async def test_minus_1021_twice_raises_timestamp_error(
    sim: FakeBinance, make_client: ClientFactory
) -> None:
    """recv_window so small that every request is late: one resync, then TimestampError."""
    sim.skew_ms = -3000  # server behind: our timestamp would be "ahead" unless synced
    client = make_client()
    await client.account.pm_loan()
    sim.inject(Fault.status_code(400, body='{"code":-1021,"msg":"Timestamp outside"}',
                                 path=PM_LOAN, times=2))
    with pytest.raises(TimestampError) as info:
        await client.account.pm_loan()
    assert info.value.code == -1021
    assert [r.status for r in sim.requests if r.path == PM_LOAN][-2:] == [400, 400]


async def test_repay_post_503_after_execution(sim: FakeBinance, client: Client) -> None:
    """A 503 after the server executed a repay: one execution, ExecutionUnknownError, no retry."""
    sim.inject(Fault.status_code(503, execute=True, path=REPAY))
    with pytest.raises(ExecutionUnknownError) as info:
        await client.account.repay()
    assert len(sim.executed(REPAY)) == 1
    assert sum(1 for r in sim.requests if r.path == REPAY) == 1
    assert info.value.status == 503 and info.value.path == REPAY
    assert "signature" not in str(info.value)


async def test_repay_reset_after_execution(sim: FakeBinance, client: Client) -> None:
    """The connection dies after the repay executed: ExecutionUnknownError, sent once."""
    sim.inject(Fault.reset(execute=True, path=REPAY))
    with pytest.raises(ExecutionUnknownError):
        await client.account.repay()
    assert len(sim.executed(REPAY)) == 1
    assert sum(1 for r in sim.requests if r.path == REPAY) == 1


async def test_repay_success_big_tran_id(sim: FakeBinance, client: Client) -> None:
    """repay returns the exact int tranId (above 2**53) and the loan is gone."""
    result = await client.account.repay(from_="SPOT")
    assert isinstance(result, RepayResult) and result.tran_id > 2**53
    assert result.tran_id == sim.executions[0].result["tranId"]  # type: ignore[index]
    assert last_call(sim).params == {"from": "SPOT"}
    assert (await client.account.pm_loan()).amount == 0


async def test_get_retries_5xx_then_succeeds(sim: FakeBinance, client: Client) -> None:
    """An idempotent GET retries a 503 and a reset, then returns the result."""
    sim.inject(Fault.status_code(503, path=PM_LOAN), Fault.reset(path=PM_LOAN))
    assert (await client.account.pm_loan()).asset == "BUSD"
    assert [r.status for r in sim.requests if r.path == PM_LOAN][-1] == 200


async def test_callers_session_is_used_and_left_open(sim: FakeBinance) -> None:
    """A caller's aiohttp session carries the requests and stays open after the client closes."""
    async with aiohttp.ClientSession() as http:
        async with Client(
            api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url, session=http
        ) as client:
            await client.account.pm_loan()
        assert client.closed and not http.closed
        async with http.get(f"{sim.base_url}/api/v3/time") as resp:
            assert resp.status == 200


async def test_closed_client_refuses(client: Client) -> None:
    await client.close()
    with pytest.raises(RuntimeError, match="closed"):
        await client.account.pm_loan()


@pytest.mark.parametrize("bad", [0, -1, 60_001, 1.5, True])
async def test_recv_window_checked_locally(bad: object, sim: FakeBinance, client: Client) -> None:
    """recv_window outside 1..60000 (or not an int) fails before anything is sent."""
    with pytest.raises((ValueError, TypeError)):
        await client.account.pm_loan(recv_window=bad)  # type: ignore[arg-type]
    assert sim.requests == []


async def test_recv_window_per_call_and_per_client(
    sim: FakeBinance, make_client: ClientFactory
) -> None:
    """Per-client default and per-call override both reach the wire."""
    client = make_client(recv_window=7000)
    await client.account.pm_loan()
    await client.account.pm_loan(recv_window=60_000)
    sent = [r.query.split("&")[0] for r in sim.requests if r.path == PM_LOAN]
    assert sent == ["recvWindow=7000", "recvWindow=60000"]


async def test_secret_never_logged_or_shown(
    sim: FakeBinance, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The secret is in no repr, exception text or log record, DEBUG included."""
    caplog.set_level(logging.DEBUG)
    secret = "super-secret-value-XYZ"
    sim.add_key("k2", secret=secret)
    client = make_client(api_key="k2", api_secret=secret)
    await client.account.pm_loan()
    sim.inject(Fault.status_code(503, execute=True, path=REPAY))
    with pytest.raises(ExecutionUnknownError) as info:
        await client.account.repay()
    bad = make_client(api_key="k2", api_secret=secret + "x")
    with pytest.raises(AuthenticationError) as auth:
        await bad.account.pm_loan()
    texts = [repr(client), repr(client._session), str(info.value), repr(info.value),
             str(auth.value), repr(auth.value), caplog.text]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        assert secret not in text
        assert "signature=" not in text


def test_unused_client_needs_no_close() -> None:
    """A client that never sent anything holds no aiohttp session: nothing to warn about."""
    import gc

    client = Client(api_key="k", api_secret="s")
    assert client._session.http is None
    del client
    gc.collect()


async def test_debug_log_names_request_not_query(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG each request logs method, path and status, never the query string."""
    caplog.set_level(logging.DEBUG, logger="binance_pm")
    await client.account.pm_loan()
    lines = [r.getMessage() for r in caplog.records]
    assert any("GET /sapi/v1/portfolio/pmLoan -> 200" in line for line in lines), lines
    assert not any("timestamp=" in line or "signature" in line for line in lines)


async def test_callers_session_with_raise_for_status(sim: FakeBinance) -> None:
    """A caller's session that raises for status still gives our typed errors, no URL in text."""
    async with aiohttp.ClientSession(raise_for_status=True) as http, Client(
        api_key=sim.api_key, api_secret="wrong", base_url=sim.base_url, session=http
    ) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.account.pm_loan()
        assert info.value.code == -1022 and "signature" not in str(info.value)
