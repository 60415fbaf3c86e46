"""Exceptions travel: every public one pickles with its attributes, and carries no credential.

Issue 14, item 16: a ``ProcessPoolExecutor`` worker raising ``ExecutionUnknownError`` reached the
parent as ``BrokenProcessPool``, because the default exception pickling calls ``cls(*args)`` and
ours take keyword-only arguments. What gets pickled must not hold the API key or a signed query.
"""

from __future__ import annotations

import asyncio
import copy
import multiprocessing
import pickle
import time
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor

import pytest
import pytest_asyncio
from aiohttp import web

import binance_pm
from binance_pm import (
    APIError,
    AuthenticationError,
    BinanceError,
    Client,
    ExecutionUnknownError,
    InvalidParameterError,
    InvalidResponseError,
    PortfolioMarginError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TimestampError,
    TransportError,
)
from binance_pm.testing import FakeBinance, Fault

REPAY = "/sapi/v1/portfolio/repay"
HEADERS = {"X-SAPI-USED-UID-WEIGHT-1M": "3500", "Retry-After": "7", "Content-Type": "text/html"}

EXAMPLES: list[BinanceError] = [
    BinanceError("root"),
    APIError("plain", status=403, code=None, method="GET", path="/p", headers=HEADERS),
    AuthenticationError("Invalid API-key, IP, or permissions for action.", status=401, code=-2015,
                        method="GET", path="/sapi/v1/portfolio/account", headers=HEADERS),
    TimestampError("outside recvWindow", status=400, code=-1021, method="POST", path=REPAY),
    InvalidParameterError("bad asset", status=400, code=-1102, method="GET", path="/p"),
    PortfolioMarginError("no loan", status=400, code=-21004, method="POST", path=REPAY),
    ServerError("busy", status=503, code=-1008, method="GET", path="/p", headers=HEADERS),
    RateLimitError("too much weight", retry_after=12.5, banned=True, status=418, code=-1003),
    RateLimitError("local refusal", retry_after=0.25),
    ExecutionUnknownError("reset", method="POST", path=REPAY, status=503, code=-1007),
    ExecutionUnknownError("timeout", method="POST", path=REPAY),
    TransportError("GET /p: network failure after 3 attempts: ClientConnectorError"),
    InvalidResponseError("pm_loan: response is missing field 'asset'"),
]


def test_examples_cover_every_public_exception() -> None:
    """The table below holds an instance of every exception class binance_pm exports."""
    exported = {
        obj for name in binance_pm.__all__
        if isinstance(obj := getattr(binance_pm, name), type) and issubclass(obj, BaseException)
    }
    assert exported == {type(e) for e in EXAMPLES}


@pytest.mark.parametrize("err", EXAMPLES, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(err: BinanceError, protocol: int) -> None:
    """Same class, attributes, args, str and repr after pickle.loads(pickle.dumps(err))."""
    back = pickle.loads(pickle.dumps(err, protocol))
    assert type(back) is type(err)
    assert back.__dict__ == err.__dict__ and back.args == err.args
    assert (str(back), repr(back)) == (str(err), repr(err))


@pytest.mark.parametrize("err", EXAMPLES, ids=lambda e: type(e).__name__)
def test_copy_and_deepcopy(err: BinanceError) -> None:
    """copy and deepcopy use the same protocol; both keep every attribute."""
    for twin in (copy.copy(err), copy.deepcopy(err)):
        assert type(twin) is type(err) and twin.__dict__ == err.__dict__


class _BotError(ExecutionUnknownError):
    """A caller's own subclass with one more keyword-only argument."""

    def __init__(self, message: str, *, order_id: int) -> None:
        super().__init__(message, method="POST", path=REPAY)
        self.order_id = order_id


def test_pickle_keeps_notes_and_subclass_attributes() -> None:
    """A caller's notes and a caller's own subclass with extra state survive too."""
    err = _BotError("reset", order_id=42)
    err.add_note("bot: order 42")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is _BotError and back.order_id == 42 and back.method == "POST"
    assert back.__notes__ == ["bot: order 42"]


def _repay_in_worker(base_url: str, api_key: str, api_secret: str) -> None:
    """Run in a child process: one repay() against the parent's simulator."""

    async def main() -> None:
        async with Client(api_key=api_key, api_secret=api_secret, base_url=base_url) as client:
            await client.account.repay()

    asyncio.run(main())


async def test_execution_unknown_crosses_a_process_pool(sim: FakeBinance) -> None:
    """A worker's ExecutionUnknownError reaches the parent as itself, attributes intact.

    Before the fix the parent saw BrokenProcessPool and lost the one fact that matters: the
    repayment may have gone through.
    """
    sim.inject(Fault.status_code(503, execute=True, path=REPAY))
    loop = asyncio.get_running_loop()
    # spawn: forking a process that runs an event loop and threads is unsafe (and warns on 3.12).
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool, pytest.raises(ExecutionUnknownError) as info:
        await loop.run_in_executor(pool, _repay_in_worker, sim.base_url, sim.api_key, sim.api_secret)
    err = info.value
    assert (err.method, err.path, err.status) == ("POST", REPAY, 503)
    assert "may have executed" in str(err)
    assert len(sim.executed(REPAY)) == 1  # it did execute: exactly what the parent must learn


# -- nothing sensitive travels -----------------------------------------------------------------

API_KEY = "k-leak-0123456789"


class EchoProxy:
    """A proxy on 127.0.0.1 that answers every SAPI call with a 403 page quoting the request:
    its signed URL and API key in the body, the URL in ``Location``, and a cookie."""

    def __init__(self) -> None:
        self.signatures: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/api/v3/time", self.time)
        self.app.router.add_route("*", "/sapi/{tail:.*}", self.echo)

    async def time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": int(time.time() * 1000)})

    async def echo(self, request: web.Request) -> web.Response:
        self.signatures.append(request.query["signature"])
        url = request.path_qs
        body = f"<p>{url}</p><p>X-MBX-APIKEY: {request.headers['X-MBX-APIKEY']}</p>"
        return web.Response(status=403, text=body, content_type="text/html", headers={
            "Location": f"https://api.binance.com{url}",
            "Set-Cookie": f"session={request.headers['X-MBX-APIKEY']}",
            "X-SAPI-USED-UID-WEIGHT-1M": "500",
        })


@pytest_asyncio.fixture
async def echo_proxy() -> AsyncIterator[tuple[EchoProxy, str]]:
    proxy = EchoProxy()
    runner = web.AppRunner(proxy.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield proxy, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_echoed_credentials_never_reach_the_exception(
    echo_proxy: tuple[EchoProxy, str],
) -> None:
    """An error page quoting the signed URL and the API key: neither is in the exception's text,
    attributes or pickle; the server's weight header is kept."""
    proxy, base_url = echo_proxy
    async with Client(api_key=API_KEY, api_secret="s" * 20, base_url=base_url,
                      retry=RetryPolicy(max_retries=0)) as client:
        with pytest.raises(APIError) as info:
            await client.account.pm_loan()
    err = info.value
    (signature,) = proxy.signatures
    assert err.status == 403 and "<redacted>" in err.message
    assert err.headers["X-SAPI-USED-UID-WEIGHT-1M"] == "500"
    assert "Set-Cookie" not in err.headers
    pickled = pickle.dumps(err)
    shown = [str(err), repr(err), err.message, *err.headers.values()]
    for needle in (signature, API_KEY):
        assert needle.encode() not in pickled
        assert all(needle not in text for text in shown)
    back = pickle.loads(pickled)
    assert back.__dict__ == err.__dict__ and str(back) == str(err)
