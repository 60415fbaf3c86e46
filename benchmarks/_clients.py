"""One adapter per client under test: set it up against the simulator, call pmLoan once, close.

Every adapter is configured so that all of its traffic goes to the simulator on 127.0.0.1, and
:func:`install_network_guard` makes sure of it: any connection or name lookup for another host
fails (and is counted) instead of leaving the machine.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from yarl import URL

from binance_pm.testing import TEST_API_KEY, TEST_API_SECRET

PM_LOAN = "/sapi/v1/portfolio/pmLoan"
HUGE = 10**12  # weight limits far above any benchmark load: we measure accounting, not waiting

AsyncCall = Callable[[], Awaitable[Any]]
SyncCall = Callable[[], Any]
Close = Callable[[], Awaitable[None]]

_LOCAL = {"127.0.0.1", "::1", "localhost"}
BLOCKED: list[str] = []  # hosts a client tried to reach outside the simulator


def install_network_guard() -> None:
    """Refuse (and record) every name lookup and connection that is not to the local machine."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in _LOCAL:
            BLOCKED.append(name)
            raise OSError(f"benchmark network guard: lookup of {name!r} refused")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOCAL:
            BLOCKED.append(str(host))
            raise OSError(f"benchmark network guard: connection to {host!r} refused")
        real_connect(self, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]


def _check(result: Any) -> None:
    """The first answer of every client must be the simulator's loan, parsed."""
    asset = result["asset"] if isinstance(result, dict) else getattr(result, "asset", None)
    if asset != "BUSD":
        raise RuntimeError(f"unexpected pmLoan answer: {result!r}")


# -- the floor: a hand-signed request on one aiohttp.ClientSession --------------------------


def _hand_signed(session: aiohttp.ClientSession, base: str) -> tuple[AsyncCall, Close]:
    key = TEST_API_SECRET.encode()
    headers = {"X-MBX-APIKEY": TEST_API_KEY}
    prefix = f"{base}{PM_LOAN}?"

    async def call() -> Any:
        query = f"recvWindow=5000&timestamp={int(time.time() * 1000)}"
        signature = hmac.new(key, query.encode(), hashlib.sha256).hexdigest()
        url = URL(f"{prefix}{query}&signature={signature}", encoded=True)
        async with session.get(url, headers=headers) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}: {body[:200]!r}")
        return json.loads(body)

    return call, session.close


async def floor(base: str) -> tuple[AsyncCall, Close]:
    return _hand_signed(aiohttp.ClientSession(), base)


async def floor_no_timeout(base: str) -> tuple[AsyncCall, Close]:
    """The floor without aiohttp's total timeout (a loop timer per request): no deadline at all,
    which no production client should run; it shows what that timer costs."""
    return _hand_signed(aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)), base)


# -- binance_pm ---------------------------------------------------------------------------------


async def binance_pm(base: str) -> tuple[AsyncCall, Close]:
    from binance_pm import Client

    client = Client(api_key=TEST_API_KEY, api_secret=TEST_API_SECRET, base_url=base,
                    uid_weight_limit=HUGE, ip_weight_limit=HUGE, api_weight_limit=HUGE)
    return client.account.pm_loan, client.close


# -- python-binance -----------------------------------------------------------------------------


def _local(url: str, base: str) -> str:
    return re.sub(r"^(https?|wss?)://[^/]+", base, url)


async def python_binance(base: str) -> tuple[AsyncCall, Close]:
    from binance import AsyncClient

    # create() pings and reads server time before returning, so every *_URL class attribute is
    # pointed at the simulator first (a subclass: the library's own class stays untouched).
    urls = {name: _local(value, base) for name in dir(AsyncClient)
            if name.endswith("_URL") and isinstance(value := getattr(AsyncClient, name), str)}
    local_client = type("LocalAsyncClient", (AsyncClient,), urls)
    client = await local_client.create(api_key=TEST_API_KEY, api_secret=TEST_API_SECRET)

    async def call() -> Any:
        # python-binance has no method for this endpoint; its generic SAPI call is the way.
        return await client._request_margin_api("get", "portfolio/pmLoan", signed=True, data={})

    return call, client.close_connection


# -- ccxt ---------------------------------------------------------------------------------------


async def ccxt_binance(base: str) -> tuple[AsyncCall, Close]:
    import ccxt.async_support as ccxt

    exchange = ccxt.binance({
        "apiKey": TEST_API_KEY,
        "secret": TEST_API_SECRET,
        # ccxt's own throttle (50 ms per weight unit by default) would cap this at a few calls per
        # second; it is switched off, which can only make ccxt cheaper in this comparison.
        "enableRateLimit": False,
    })
    api = exchange.urls["api"]
    for name, value in list(api.items()):
        if isinstance(value, str):
            api[name] = _local(value, base)
    for name in ("test", "demo"):  # sandbox URL tables: never used here, pointed home anyway
        table = exchange.urls.get(name)
        if isinstance(table, dict):
            for key, value in list(table.items()):
                if isinstance(value, str):
                    table[key] = _local(value, base)

    async def call() -> Any:
        return await exchange.sapi_get_portfolio_pmloan()

    return call, exchange.close


# -- Binance's official modular SDK (synchronous, requests) -----------------------------------


def official_sdk(base: str, threads: int) -> tuple[SyncCall, Callable[[], None]]:
    import requests
    from binance_common.configuration import ConfigurationRestAPI
    from binance_sdk_derivatives_trading_portfolio_margin_pro import (
        DerivativesTradingPortfolioMarginPro,
    )

    config = ConfigurationRestAPI(api_key=TEST_API_KEY, api_secret=TEST_API_SECRET, base_path=base)
    rest = DerivativesTradingPortfolioMarginPro(config_rest_api=config).rest_api
    # requests keeps 10 connections per host by default; give it one per thread, as a user running
    # it from that many threads would, so it is not penalised for reconnecting.
    session: requests.Session = rest._session
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(10, threads))
    session.mount("http://", adapter)

    def call() -> Any:
        return rest.query_portfolio_margin_pro_bankruptcy_loan_amount().data()

    return call, session.close


ASYNC_CLIENTS: dict[str, Callable[[str], Awaitable[tuple[AsyncCall, Close]]]] = {
    "floor": floor,
    "floor-no-timeout": floor_no_timeout,
    "binance_pm": binance_pm,
    "python-binance": python_binance,
    "ccxt": ccxt_binance,
}
SYNC_CLIENTS = {"official-sdk": official_sdk}
ALL_CLIENTS = [*ASYNC_CLIENTS, *SYNC_CLIENTS]
