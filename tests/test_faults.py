"""Each injected fault states its contract: exception type, retries, executions, client still usable."""

from __future__ import annotations

import asyncio
import socket

import pytest

from binance_pm import (
    Client,
    ExecutionUnknownError,
    InvalidResponseError,
    RetryPolicy,
    TransportError,
)
from binance_pm.testing import FakeBinance, Fault, VirtualTime

from .conftest import ClientFactory

PM_LOAN = "/sapi/v1/portfolio/pmLoan"
REPAY = "/sapi/v1/portfolio/repay"


def _sends(sim: FakeBinance, path: str) -> int:
    return sum(1 for r in sim.requests if r.path == path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _still_usable(client: Client) -> None:
    assert (await client.account.pm_loan()).asset == "BUSD"


async def test_stall_get_times_out_retries_then_transport_error(
    fake_binance: FakeBinance, make_client: ClientFactory
) -> None:
    """A server that never answers: each GET attempt times out, retried, then TransportError."""
    client = make_client(timeout=0.3)
    await client.account.pm_loan()
    fake_binance.inject(Fault.stall(path=PM_LOAN, times=3))
    with pytest.raises(TransportError, match="3 attempts"):
        await client.account.pm_loan()
    assert _sends(fake_binance, PM_LOAN) == 4
    await _still_usable(client)


async def test_stall_post_is_unknown_not_retried(
    fake_binance: FakeBinance, make_client: ClientFactory
) -> None:
    """A POST that times out after executing: ExecutionUnknownError, one send, one execution."""
    client = make_client(timeout=0.3)
    await client.account.pm_loan()
    fake_binance.inject(Fault.stall(path=REPAY, execute=True))
    with pytest.raises(ExecutionUnknownError, match="Timeout"):
        await client.account.repay()
    assert _sends(fake_binance, REPAY) == 1 and len(fake_binance.executed(REPAY)) == 1
    await _still_usable(client)


async def test_per_call_timeout_override(fake_binance: FakeBinance, client: Client) -> None:
    """timeout= on the call beats the client default."""
    await client.account.pm_loan()
    fake_binance.inject(Fault.latency(0.5, path=PM_LOAN, times=None))
    with pytest.raises(TransportError):
        await client.account.pm_loan(timeout=0.1)
    assert (await client.account.pm_loan(timeout=5)).asset == "BUSD"


async def test_truncated_body_get_retried(fake_binance: FakeBinance, client: Client) -> None:
    """A body cut off mid-way is retried for a GET and then succeeds."""
    fake_binance.inject(Fault.truncate(path=PM_LOAN))
    assert (await client.account.pm_loan()).asset == "BUSD"
    assert _sends(fake_binance, PM_LOAN) == 2


async def test_truncated_body_post_unknown(fake_binance: FakeBinance, client: Client) -> None:
    """A POST whose answer is cut off executed: ExecutionUnknownError, one execution."""
    fake_binance.inject(Fault.truncate(path=REPAY))
    with pytest.raises(ExecutionUnknownError):
        await client.account.repay()
    assert len(fake_binance.executed(REPAY)) == 1 and _sends(fake_binance, REPAY) == 1
    await _still_usable(client)


async def test_reset_before_execution_get_retried(fake_binance: FakeBinance, client: Client) -> None:
    """A reset connection on a GET is retried transparently."""
    fake_binance.inject(Fault.reset(path=PM_LOAN, times=2))
    assert (await client.account.pm_loan()).asset == "BUSD"
    assert _sends(fake_binance, PM_LOAN) == 3


async def test_reset_before_execution_post_unknown(fake_binance: FakeBinance, client: Client) -> None:
    """A POST reset before executing is still unknown to the client; nothing executed, no resend."""
    fake_binance.inject(Fault.reset(path=REPAY, execute=False))
    with pytest.raises(ExecutionUnknownError):
        await client.account.repay()
    assert fake_binance.executed(REPAY) == [] and _sends(fake_binance, REPAY) == 1


async def test_closed_port_get_transport_error() -> None:
    """Nothing listening: TransportError after retries, never an aiohttp/OSError."""
    async with Client(
        api_key="k", api_secret="s", base_url=f"http://127.0.0.1:{_free_port()}",
        retry=RetryPolicy(max_retries=1, base=0.001, cap=0.002),
    ) as client:
        with pytest.raises(TransportError):
            await client.server_time()


async def test_closed_port_post_never_sent_is_not_unknown(fake_binance: FakeBinance) -> None:
    """A POST that could not connect was never sent: retried, then TransportError (not unknown)."""
    async with Client(
        api_key=fake_binance.api_key, api_secret=fake_binance.api_secret, base_url=f"http://127.0.0.1:{_free_port()}",
        retry=RetryPolicy(max_retries=2, base=0.001, cap=0.002),
    ) as client:
        client.clock.set(fake_binance.now_ms())  # synced: the POST itself is what fails to connect
        with pytest.raises(TransportError, match="3 attempts"):
            await client.account.repay()
        assert client.weights.for_kind(client.weights.buckets[0].kind)  # books still readable
        repay_bucket = [b for b in client.weights.buckets if b.key.endswith("/repay")]
        assert not repay_bucket or repay_bucket[0].used == 0  # reservations given back


async def test_server_clock_jump_minutes(fake_binance: FakeBinance, client: Client) -> None:
    """The server clock jumps by five minutes: one -1021, a resync, then success."""
    await client.account.pm_loan()
    fake_binance.skew_ms += 5 * 60_000
    assert (await client.account.pm_loan()).asset == "BUSD"
    fake_binance.skew_ms -= 10 * 60_000
    assert (await client.account.pm_loan()).asset == "BUSD"


async def test_bad_server_time_answer(fake_binance: FakeBinance, client: Client) -> None:
    """A broken /api/v3/time answer surfaces as a binance_pm error, not a KeyError."""
    fake_binance.inject(Fault.status_code(200, body='{"nope":1}', path="/api/v3/time", times=None))
    with pytest.raises(InvalidResponseError, match="api/v3/time"):
        await client.account.pm_loan()


async def test_cancel_while_sending_post_logs_unknown(
    fake_binance: FakeBinance, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Cancelling a POST in flight logs an unknown outcome; the client keeps working."""
    await client.account.pm_loan()
    fake_binance.inject(Fault.latency(1.0, path=REPAY))
    task = asyncio.create_task(client.account.repay())
    await asyncio.sleep(0.3)  # the request is at the server, which holds it for 1 s
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "outcome unknown" in caplog.text
    await _still_usable(client)



@pytest.mark.parametrize("header", [None, "soon", "-3"])
async def test_429_without_usable_retry_after_waits_for_window(header: str | None) -> None:
    """A 429 with a missing/malformed Retry-After: wait for the (60 s) window to roll, then retry."""
    vt = VirtualTime()
    async with FakeBinance(wall=vt.wall) as sim, Client(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url, time_source=vt,
    ) as client:
        await client.account.pm_loan()
        headers = {} if header is None else {"Retry-After": header}
        sim.inject(Fault.status_code(429, body='{"code":-1003,"msg":"Too much request weight"}',
                                     headers=headers, path=PM_LOAN))
        assert (await client.account.pm_loan()).asset == "BUSD"
        loans = [r for r in sim.requests if r.path == PM_LOAN]
        assert [r.status for r in loans] == [200, 429, 200]
        assert loans[2].server_ms >= (loans[1].server_ms // 60_000 + 1) * 60_000  # after the roll


async def test_418_without_retry_after_stops_everything(
    make_client: ClientFactory, fake_binance: FakeBinance
) -> None:
    """A 418 with no Retry-After: a two-minute ban (Binance's minimum); nothing is sent meanwhile."""
    client = make_client(max_wait=1.0)
    await client.account.pm_loan()
    fake_binance.inject(Fault.status_code(418, body='{"code":-1003,"msg":"IP banned"}', path=PM_LOAN))
    from binance_pm import RateLimitError

    with pytest.raises(RateLimitError) as info:
        await client.account.pm_loan()
    assert info.value.banned and info.value.status == 418 and info.value.retry_after == 120
    sent = len(fake_binance.requests)
    with pytest.raises(RateLimitError) as again:
        await client.account.repay()
    assert again.value.banned and again.value.status is None  # refused locally
    assert len(fake_binance.requests) == sent and fake_binance.executed(REPAY) == []


async def test_cancel_while_reading_get_leaks_nothing(fake_binance: FakeBinance, client: Client) -> None:
    """Cancelling GETs mid-read frees their slots; the client keeps working."""
    await client.account.pm_loan()
    fake_binance.inject(Fault.latency(1.0, path=PM_LOAN, times=5))
    tasks = [asyncio.create_task(client.account.pm_loan()) for _ in range(5)]
    await asyncio.sleep(0.3)
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert _free_slots(client) == client._session.pool_size
    await _still_usable(client)


async def test_cancel_before_sending_gives_weight_back(fake_binance: FakeBinance, client: Client) -> None:
    """A call cancelled while the clock syncs holds no weight afterwards."""
    fake_binance.inject(Fault.latency(0.5, path="/api/v3/time"))
    task = asyncio.create_task(client.account.pm_loan())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The time request went out and stays counted; pm_loan's weight was never taken.
    assert all(b.used == 0 for b in client.weights.buckets if b.key.endswith(PM_LOAN))
    assert not any(r.path == PM_LOAN for r in fake_binance.requests)


async def test_ban_during_clock_sync(make_client: ClientFactory, fake_binance: FakeBinance) -> None:
    """A 418 on the server-time request raises RateLimitError and nothing more is sent."""
    from binance_pm import RateLimitError

    client = make_client()
    fake_binance.inject(Fault.status_code(418, body='{"code":-1003,"msg":"banned"}',
                                 headers={"Retry-After": "300"}, path="/api/v3/time"))
    with pytest.raises(RateLimitError) as info:
        await client.account.pm_loan()
    assert info.value.banned and info.value.retry_after == 300
    with pytest.raises(RateLimitError):
        await client.account.pm_loan()
    assert len(fake_binance.requests) == 1


async def test_cancel_while_connecting_leaks_nothing(
    fake_binance: FakeBinance, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Cancelled in the TLS handshake: the socket is closed, the slot freed, the POST's weight kept.

    aiohttp does not say whether a cancelled request got past connecting, so a POST is treated as
    maybe sent (a warning, weight still counted): over-counting one request is the safe direction.
    """
    await client.account.pm_loan()  # clock synced against the simulator
    peers: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    accepted = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append((reader, writer))  # accept, never answer: the client waits in its TLS handshake
        accepted.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tls = Client(api_key=fake_binance.api_key, api_secret=fake_binance.api_secret,
                 base_url=f"https://127.0.0.1:{port}")
    tls.clock.set(fake_binance.now_ms())
    try:
        task = asyncio.create_task(tls.account.repay())
        await asyncio.wait_for(accepted.wait(), 5)
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The client closed its half-open connection: the server reads EOF, not a hang.
        reader = peers[0][0]
        await asyncio.wait_for(reader.read(), 5)
        assert reader.at_eof()
        assert _free_slots(tls) == tls._session.pool_size
        assert "outcome unknown" in caplog.text
        repay = [b for b in tls.weights.buckets if b.key.endswith("/repay")]
        assert repay and repay[0].used > 0  # the maybe-sent POST stays counted
    finally:
        for _, writer in peers:
            writer.close()
        server.close()
        await server.wait_closed()
        await tls.close()
    assert _sends(fake_binance, REPAY) == 0 and fake_binance.executed(REPAY) == []
    await _still_usable(client)


def _free_slots(client: Client) -> int:
    return client._session.slots.free
