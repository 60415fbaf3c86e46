"""The promises under faults: a POST's outcome is never misreported, waits are bounded, hostile
answers are contained, and no error carries the signed query or the API key (issues 11 and 14)."""

from __future__ import annotations

import asyncio
import gzip
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from binance_pm import (
    Client,
    ExecutionUnknownError,
    InvalidResponseError,
    RetryPolicy,
    ServerError,
    Timeout,
    TransportError,
)
from binance_pm.testing import FakeBinance, Fault, VirtualTime

from .conftest import ClientFactory
from .test_secrets import _self_signed

PM_LOAN = "/sapi/v1/portfolio/pmLoan"
REPAY = "/sapi/v1/portfolio/repay"
FAST = RetryPolicy(max_retries=2, base=0.001, cap=0.002)


def _rendered(err: BaseException) -> str:
    """The traceback as logging.exception and a crash reporter with locals would show it."""
    plain = "".join(traceback.format_exception(err))
    with_locals = "".join(traceback.TracebackException.from_exception(
        err, capture_locals=True).format())
    return plain + with_locals


def _assert_nothing_secret(text: str, sim: FakeBinance) -> None:
    assert "signature=" not in text and "timestamp=" not in text
    assert sim.api_key not in text and sim.api_secret not in text


# -- A. a POST's outcome is never misreported ----------------------------------------------

INDEX = "/sapi/v1/portfolio/asset-index-price"
HOSTILE = {
    "deep nesting": (PM_LOAN, b"[" * 100_000 + b"]" * 100_000),
    "huge exponent": (PM_LOAN, b'{"asset": "BUSD", "amount": 1e9999999999999999999}'),
    "time out of range": (INDEX, b'[{"asset": "BTC", "assetIndexPrice": "1", '
                                 b'"time": 99999999999999999999}]'),
}


@pytest.mark.parametrize(("path", "body"), HOSTILE.values(), ids=HOSTILE.keys())
async def test_hostile_2xx_body_on_a_get_is_invalid_response(
    path: str, body: bytes, fake_binance: FakeBinance, client: Client
) -> None:
    """A 200 whose body breaks the parser: InvalidResponseError naming the endpoint."""
    fake_binance.inject(Fault.status_code(200, body=body, path=path))
    call = client.account.pm_loan() if path == PM_LOAN else client.market.asset_index_prices()
    with pytest.raises(InvalidResponseError, match=r"pm_loan|asset_index_prices"):
        await call


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000,
                                  b'{"tranId": 1e9999999999999999999}', b'{"tranId": "1e999"}'])
async def test_hostile_2xx_body_after_a_post_is_unknown_outcome(
    body: bytes, fake_binance: FakeBinance, client: Client
) -> None:
    """The same after a repay that executed: ExecutionUnknownError, never a raw Python error."""
    fake_binance.inject(Fault.status_code(200, body=body, path=REPAY, execute=True))
    with pytest.raises(ExecutionUnknownError, match="repay"):
        await client.account.repay()
    assert len(fake_binance.executed(REPAY)) == 1


# -- B. no 429 beside another program ------------------------------------------------------

async def test_no_429_when_another_program_spent_part_of_the_budget() -> None:
    """Another program spent 40 % of pm_loan's budget; 150 calls at concurrency 100 draw no 429:
    the server's count plus what is still in flight, not the larger of the two."""
    limit = 50_000  # 100 calls of 500 per window
    # Windows of 1 s: virtual-time jumps stay far inside recvWindow for calls in flight.
    vt = VirtualTime()
    async with FakeBinance(uid_weight_limit=limit, weight_window_s=1.0, wall=vt.wall) as sim, \
            Client(api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
                   uid_weight_limit=limit, weight_window_s=1.0, time_source=vt,
                   retry=FAST) as client:
        await client.server_time()
        await vt.sleep((1_150 - sim.now_ms() % 1_000) / 1000)  # early in a window
        sim.burn("UID", PM_LOAN, 20_000)
        gate = asyncio.Semaphore(100)

        async def one() -> None:
            async with gate:
                await client.account.pm_loan()

        await asyncio.gather(*(one() for _ in range(150)))
    assert sim.status_counts[429] == 0 and sim.status_counts[418] == 0
    assert max(v for (b, _), v in sim.used_by_window.items() if b.endswith(PM_LOAN)) <= limit


async def test_retry_after_zero_is_not_a_tight_loop() -> None:
    """429 with Retry-After: 0 waits at least the 1 s floor: one call, two requests."""
    vt = VirtualTime()
    async with FakeBinance(wall=vt.wall) as sim, Client(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url, time_source=vt,
    ) as client:
        await client.server_time()
        sim.inject(Fault.status_code(429, body='{"code":-1003,"msg":"Too much"}',
                                     headers={"Retry-After": "0"}, path=PM_LOAN))
        await client.account.pm_loan()
        calls = [r for r in sim.requests if r.path == PM_LOAN]
        assert [r.status for r in calls] == [429, 200]
        assert calls[1].server_ms - calls[0].server_ms >= 990


# -- C. every wait bounded by the call's max_wait --------------------------------------------

async def test_5xx_retry_after_longer_than_max_wait_ends_the_call(
    fake_binance: FakeBinance, client: Client
) -> None:
    """503 with Retry-After: 20 and max_wait=1: ServerError at once, not 20 s of sleep."""
    await client.account.pm_loan()
    fake_binance.inject(Fault.status_code(503, headers={"Retry-After": "20"}, path=PM_LOAN, times=None))
    started = time.monotonic()
    with pytest.raises(ServerError):
        await client.account.pm_loan(max_wait=1, timeout=1)
    assert time.monotonic() - started < 1.0


# -- D. hostile answers contained ------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest_asyncio.fixture
async def raw_server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start a one-handler aiohttp server on 127.0.0.1 and give its base URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def _time_answer(request: web.Request) -> web.Response | None:
    if request.path == "/api/v3/time":
        return web.json_response({"serverTime": int(time.time() * 1000)})
    return None


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip bomb"])
async def test_body_larger_than_max_body_fails_the_call(
    gzipped: bool, raw_server: Callable[[Handler], Awaitable[str]]
) -> None:
    """A 20 MB answer (or 20 MB inflated from 20 kB of gzip) fails at max_body, memory bounded."""
    big = b'{"asset": "' + b"A" * 20_000_000 + b'", "amount": "1"}'
    packed = gzip.compress(big)

    async def handler(request: web.Request) -> web.StreamResponse:
        answer = await _time_answer(request)
        if answer is not None:
            return answer
        if gzipped:
            return web.Response(body=packed, headers={"Content-Encoding": "gzip",
                                                      "Content-Type": "application/json"})
        return web.Response(body=big, content_type="application/json")

    base = await raw_server(handler)
    async with Client(api_key="k", api_secret="s", base_url=base, retry=FAST,
                      max_body=1_000_000) as client:
        with pytest.raises(InvalidResponseError, match="max_body"):
            await client.account.pm_loan()
        with pytest.raises(ExecutionUnknownError, match="max_body"):
            await client.account.repay()


# -- E. nothing sensitive travels with an error ----------------------------------------------

async def test_malformed_status_line_chains_nothing_sensitive(
    fake_binance: FakeBinance, client: Client
) -> None:
    """A garbled status line: TransportError (GET) or unknown outcome (POST), and neither the
    plain traceback nor one rendered with locals shows the signed query or the API key."""
    await client.account.pm_loan()

    async def garble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTZ/9.9 two hundred\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garble, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with Client(api_key=fake_binance.api_key, api_secret=fake_binance.api_secret,
                          base_url=f"http://127.0.0.1:{port}", retry=FAST) as bad:
            bad.clock.set(fake_binance.now_ms())
            with pytest.raises(TransportError) as got:
                await bad.account.pm_loan()
            _assert_nothing_secret(_rendered(got.value), fake_binance)
            with pytest.raises(ExecutionUnknownError) as unknown:
                await bad.account.repay()
            _assert_nothing_secret(_rendered(unknown.value), fake_binance)
    finally:
        server.close()
        await server.wait_closed()


async def test_tls_connect_timeout_is_not_sent_and_chains_no_url(fake_binance: FakeBinance) -> None:
    """A TLS handshake that never completes: a connect timeout, so a POST was never sent
    (TransportError, not unknown), and the rendered traceback holds no signed URL."""
    peers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with Client(api_key=fake_binance.api_key, api_secret=fake_binance.api_secret, retry=FAST,
                          base_url=f"https://127.0.0.1:{port}", timeout=2.0) as client:
            client.clock.set(fake_binance.now_ms())
            with pytest.raises(TransportError, match="3 attempts") as info:
                await client.account.repay(timeout=Timeout(total=2.0, connect=0.1))
            _assert_nothing_secret(_rendered(info.value), fake_binance)
    finally:
        for writer in peers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_certificate_fingerprint_mismatch_is_not_sent(
    tmp_path: Path, make_client: ClientFactory
) -> None:
    """A pinned fingerprint that does not match fails before a byte is sent: a POST is retried
    and ends in TransportError, never ExecutionUnknownError."""
    async with FakeBinance(ssl_context=_self_signed(tmp_path)) as tls_sim:
        connector = aiohttp.TCPConnector(ssl=aiohttp.Fingerprint(b"\x00" * 32))
        async with aiohttp.ClientSession(connector=connector) as http:
            client = make_client(base_url=tls_sim.base_url, session=http, retry=FAST)
            client.clock.set(tls_sim.now_ms())
            with pytest.raises(TransportError, match="ServerFingerprintMismatch"):
                await client.account.repay()
        assert tls_sim.requests == []


def test_base_url_without_a_host_is_refused_before_anything() -> None:
    """``http://`` (no host) is refused when the client is built, not at the first repay."""
    for url in ("http://", "https://", "https://api.binance.com?x=1"):
        with pytest.raises(ValueError, match="base_url"):
            Client(api_key="k", api_secret="s", base_url=url)


async def test_base_url_is_read_only(client: Client) -> None:
    """base_url cannot be retargeted under a live client (build another one)."""
    with pytest.raises(AttributeError):
        client.base_url = "http://127.0.0.1:9"  # type: ignore[misc]


async def test_connection_set_up_near_a_boundary_draws_no_429() -> None:
    """Every new connection takes 300 ms to set up (a slow TCP+TLS handshake). A burst reserved
    just before a window rolls reaches Binance in the next one; it is charged to both, so the
    next window's calls wait instead of drawing 429s (issue 14, B4)."""
    limit, window_s = 10_000, 2.0  # 20 pm_loan per window
    async with FakeBinance(uid_weight_limit=limit, weight_window_s=window_s) as sim:
        delay = 0.3

        async def slow_link(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(delay)  # the handshake: nothing passes until it is done
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", sim.port)

            async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                try:
                    while data := await src.read(65536):
                        dst.write(data)
                        await dst.drain()
                except (ConnectionError, asyncio.CancelledError):
                    pass
                finally:
                    dst.close()

            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        proxy = await asyncio.start_server(slow_link, "127.0.0.1", 0)
        port = proxy.sockets[0].getsockname()[1]
        try:
            async with Client(api_key=sim.api_key, api_secret=sim.api_secret,
                              base_url=f"http://127.0.0.1:{port}", uid_weight_limit=limit,
                              weight_window_s=window_s, max_wait=10) as client:
                await client.server_time()  # a first connection: the client sees the lag
                await client.account.pm_loan()
                # 150 ms before a boundary, a burst that needs fresh connections
                left = window_s - sim.now_ms() % 2000 / 1000
                await asyncio.sleep(left - 0.15 if left > 0.3 else left + window_s - 0.15)
                await asyncio.gather(*(client.account.pm_loan() for _ in range(30)))
        finally:
            proxy.close()
            await proxy.wait_closed()
    assert sim.status_counts[429] == 0 and sim.status_counts[418] == 0
