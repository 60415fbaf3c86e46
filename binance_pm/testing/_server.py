"""FakeBinance: an aiohttp.web server on 127.0.0.1 that answers like Binance's /api, /sapi and /fapi.

It verifies HMAC, RSA and Ed25519 signatures over the exact bytes received, enforces
timestamp/recvWindow (-1021) with a configurable clock skew, keeps the weight pools of each API
family and reports them in Binance's headers (``_books``), answers 429 with Retry-After (and bans
with 418 as its escalation policy says), and injects faults. Every request and every execution
is recorded. Test-only controls live under ``/__sim__/`` (``_control``), a prefix Binance never uses.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any, Self

import attrs
from aiohttp import web

from ._books import BucketPolicy, Escalation, Family, WeightBooks, per_path
from ._checks import SECURITY_PARAMS, check_params, check_signature, check_timestamp, read_params
from ._control import add_control_routes
from ._faults import Fault, FaultKind
from ._routes import ROUTES, Handler, Route, Weigh, register_into
from ._state import AccountState, Execution, SimError
from ._stream import StreamSim

__all__ = ["FakeBinance", "ReceivedRequest"]

TEST_API_KEY = "sim-api-key-0123456789"
TEST_API_SECRET = "sim-api-secret-do-not-use-in-production"
FORM = "application/x-www-form-urlencoded"


@attrs.define
class ReceivedRequest:
    """One request as the simulator saw it: raw query and body bytes, decoded params, answer.

    Recorded on arrival; ``status`` is 0 until an answer goes out (it stays 0 for a request the
    simulator stalled or dropped).
    """

    method: str
    path: str
    query: str
    body: bytes
    headers: dict[str, str]
    server_ms: int
    params: dict[str, str] = attrs.field(factory=dict)
    status: int = 0


class FakeBinance:
    """A local Binance for tests: ``async with FakeBinance() as sim: Client(base_url=sim.base_url)``.

    ``api_key``/``api_secret`` are the HMAC credentials it accepts; more keys (including RSA and
    Ed25519 public keys) with :meth:`add_key`. ``skew_ms`` shifts the server clock against this
    machine's. Weight limits and the window are configurable so rate-limit tests run in seconds;
    ``sapi_buckets`` and ``escalation`` are the rate-limit policies ``_books`` documents.
    ``routes`` is this instance's own copy of the default route table.
    """

    def __init__(
        self,
        *,
        api_key: str = TEST_API_KEY,
        api_secret: str = TEST_API_SECRET,
        skew_ms: int = 0,
        uid_weight_limit: int = 180_000,
        ip_weight_limit: int = 12_000,
        api_weight_limit: int = 6_000,
        fapi_weight_limit: int = 2_400,
        weight_window_s: float = 60.0,
        sapi_buckets: BucketPolicy = per_path,
        escalation: Mapping[Family, Escalation] | None = None,
        state: AccountState | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
        wall: Callable[[], float] = time.time,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.skew_ms = skew_ms
        self.books = WeightBooks(
            limits={"UID": uid_weight_limit, "IP": ip_weight_limit, "API": api_weight_limit,
                    "FAPI": fapi_weight_limit},
            window_ms=max(1, round(weight_window_s * 1000)),
            sapi_buckets=sapi_buckets,
            escalation=escalation or {},
        )
        self.state = state if state is not None else AccountState()
        self.host = host
        self.port = port
        self.record = record
        self.wall = wall
        self.ssl_context = ssl_context
        self.routes: dict[tuple[str, str], Route] = dict(ROUTES)
        self.requests: list[ReceivedRequest] = []
        self.executions: list[Execution] = []
        self.faults: list[Fault] = []
        # Called for every request no queued fault matched: return a Fault to inject one at
        # random (seed your own random.Random for a reproducible soak), or None.
        self.chaos: Callable[[str, str], Fault | None] | None = None
        self.status_counts: dict[int, int] = defaultdict(int)
        self._hmac: dict[str, str] = {api_key: api_secret}
        self._public: dict[str, Any] = {}
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
        add_control_routes(self)
        self.stream = StreamSim(self)  # the user data stream; its websocket route goes first
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Self:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        sockets = self._runner.addresses
        self.port = int(sockets[0][1])
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """Where ``/api`` and ``/sapi`` are served (``api.binance.com`` in production)."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def futures_url(self) -> str:
        """Where ``/fapi`` is served (``fapi.binance.com``): the same server, its own weight pool."""
        return self.base_url

    @property
    def limits(self) -> dict[str, int]:
        """Weight limit per window: ``UID``/``IP`` per /sapi endpoint, ``API``, ``FAPI`` per IP."""
        return self.books.limits

    @property
    def used_by_window(self) -> dict[tuple[str, int], int]:
        """(bucket, window number) -> weight used in it."""
        return self.books.used_by_window

    @property
    def max_used(self) -> dict[str, int]:
        """bucket -> the highest weight used in any one window."""
        return self.books.max_used

    @property
    def violations(self) -> int:
        """Requests that arrived while a 429 of their own budget was in force."""
        return self.books.violations

    # -- configuration -----------------------------------------------------------------------

    def add_key(self, api_key: str, *, secret: str | None = None,
                public_key_pem: bytes | None = None) -> None:
        """Accept another key: an HMAC secret, or an RSA/Ed25519 public key in PEM."""
        if secret is not None:
            self._hmac[api_key] = secret
        elif public_key_pem is not None:
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            self._public[api_key] = load_pem_public_key(public_key_pem)
        else:
            raise ValueError("give secret or public_key_pem")

    def route(
        self,
        method: str,
        path: str,
        kind: str,
        weight: Weigh,
        *,
        signed: bool = True,
        api_key: bool = True,
        executes: bool = False,
        params: tuple[str, ...] = (),
        required: tuple[str, ...] = (),
    ) -> Callable[[Handler], Handler]:
        """A decorator adding (or replacing) a route on this simulator only."""
        return register_into(self.routes, method, path, kind, weight, signed=signed,
                             api_key=api_key, executes=executes, params=params, required=required)

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each hits the next matching request(s), ``times`` over."""
        self.faults.extend(faults)

    def now_ms(self) -> int:
        """The simulated server clock."""
        return int(self.wall() * 1000) + self.skew_ms

    def burn(self, kind: str, path: str, amount: int, *, method: str = "GET") -> None:
        """Spend weight as another program on the same account/IP would."""
        self.books.charge(self.books.pool(kind, method, path).bucket, amount, self.now_ms())

    def used(self, kind: str, path: str, *, method: str = "GET") -> int:
        """Weight used in the current window of the pool a request would count in."""
        return self.books.used(self.books.pool(kind, method, path).bucket, self.now_ms())

    def executed(self, path: str) -> list[Execution]:
        return [e for e in self.executions if e.path == path]

    # -- request handling --------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return self.chaos(method, path) if self.chaos is not None else None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_query = request.raw_path.partition("?")[2]
        body = await request.read()
        method, path = request.method, request.path
        now = self.now_ms()
        params: dict[str, str] = {}
        headers: dict[str, str] = {}
        record = ReceivedRequest(method, path, raw_query, body, dict(request.headers), now, params)
        if self.record:
            self.requests.append(record)
        try:
            resp = await self._process(request, method, path, raw_query, body, now, params, headers)
            record.status = resp.status
            return resp
        except SimError as err:
            record.status = err.status
            payload = json.dumps({"code": err.code, "msg": err.msg})
            return web.Response(status=err.status, text=payload, headers=headers,
                                content_type="application/json")
        finally:
            self.status_counts[record.status] += 1

    async def _process(
        self,
        request: web.Request,
        method: str,
        path: str,
        raw_query: str,
        body: bytes,
        now: int,
        params: dict[str, str],
        headers: dict[str, str],
    ) -> web.StreamResponse:
        self.books.check_ban(path, now, headers)
        rt = self.routes.get((method, path))
        if rt is None:
            raise SimError(-1000, f"no such endpoint {method} {path}", 404)
        # Binance reads a body only as a form: a JSON-labelled body is not parameters.
        form = body.decode("latin-1") if request.content_type == FORM else ""
        params.update(read_params(raw_query, form))
        key = request.headers.get("X-MBX-APIKEY")
        if rt.api_key:
            if not key:
                raise SimError(-2014, "API-key format invalid.", 401)
            if key not in self._hmac and key not in self._public:
                raise SimError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        pool = self.books.pool(rt.kind, method, path)
        self.books.admit(pool, rt.weight_for(params), now, headers)
        if rt.signed:
            check_signature(self._hmac, self._public, key or "", raw_query, form, params)
            check_timestamp(params, now)
        # Unsigned routes ignore the security parameters a client signs every call with (ccxt).
        for name in SECURITY_PARAMS:
            params.pop(name, None)
        check_params(rt, params)
        fault = self._take_fault(method, path)
        return await self._respond(request, rt, params, now, headers, fault)

    def _execute(self, rt: Route, params: dict[str, str], now: int) -> Any:
        result = rt.handler(self.state, params, now)
        if rt.executes:
            self.executions.append(Execution(rt.method, rt.path, dict(params), now, result))
        return result

    async def _respond(self, request: web.Request, rt: Route, params: dict[str, str], now: int,
                       headers: dict[str, str], fault: Fault | None) -> web.StreamResponse:
        if fault is None or fault.kind is FaultKind.LATENCY:
            if fault is not None:
                await asyncio.sleep(fault.delay)
            return _json(self._execute(rt, params, now), headers)
        if fault.execute:
            self._execute(rt, params, now)
        if fault.kind is FaultKind.STATUS:
            return web.Response(status=fault.status, body=fault.body,
                                headers={**headers, **fault.headers,
                                         "Content-Type": fault.content_type})
        if fault.kind is FaultKind.STALL:
            await asyncio.sleep(3600)
        if fault.kind is FaultKind.TRUNCATE:
            resp = web.StreamResponse(status=200, headers={**headers, "Content-Length": "200",
                                                           "Content-Type": "application/json"})
            await resp.prepare(request)
            await resp.write(b'{"asset": "BU')
        transport = request.transport
        if transport is not None:
            transport.abort()  # RST: the client sees the connection die mid-exchange
        raise asyncio.CancelledError  # aiohttp drops the handler quietly


def _json(data: Any, headers: dict[str, str]) -> web.Response:
    return web.Response(text=json.dumps(data, default=str), headers=headers,
                        content_type="application/json")
