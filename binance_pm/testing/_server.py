"""FakeBinance: an aiohttp.web server on 127.0.0.1 that answers like Binance's SAPI.

It verifies HMAC, RSA and Ed25519 signatures over the exact bytes received, enforces
timestamp/recvWindow (-1021) with a configurable clock skew, keeps per-endpoint weight windows and
reports them in ``X-SAPI-USED-*-WEIGHT-1M``, answers 429 with Retry-After (and bans with 418 a
client that ignores it), and injects faults. Every request and every execution is recorded.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import math
import ssl
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import parse_qsl, unquote

import attrs
from aiohttp import web

from ._faults import Fault, FaultKind
from ._routes import ROUTES, Route
from ._state import AccountState, Execution, SimError
from ._stream import StreamSim

__all__ = ["FakeBinance", "ReceivedRequest"]

TEST_API_KEY = "sim-api-key-0123456789"
TEST_API_SECRET = "sim-api-secret-do-not-use-in-production"


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


@attrs.define
class _Window:
    window: int = -1
    used: int = 0


class FakeBinance:
    """A local Binance for tests: ``async with FakeBinance() as sim: Client(base_url=sim.base_url)``.

    ``api_key``/``api_secret`` are the HMAC credentials it accepts; more keys (including RSA and
    Ed25519 public keys) with :meth:`add_key`. ``skew_ms`` shifts the server clock against this
    machine's. Weight limits and the window are configurable so rate-limit tests run in seconds.
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
        weight_window_s: float = 60.0,
        ban_after_violations: int = 3,
        ban_s: int = 120,
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
        self.limits = {"UID": uid_weight_limit, "IP": ip_weight_limit, "API": api_weight_limit}
        self.window_ms = max(1, round(weight_window_s * 1000))
        self.ban_after_violations = ban_after_violations
        self.ban_s = ban_s
        self.state = state if state is not None else AccountState()
        self.host = host
        self.port = port
        self.record = record
        self.wall = wall
        self.ssl_context = ssl_context
        self.requests: list[ReceivedRequest] = []
        self.executions: list[Execution] = []
        self.faults: list[Fault] = []
        # Called for every request no queued fault matched: return a Fault to inject one at
        # random (seed your own random.Random for a reproducible soak), or None.
        self.chaos: Callable[[str, str], Fault | None] | None = None
        self.status_counts: dict[int, int] = defaultdict(int)
        self.max_used: dict[str, int] = defaultdict(int)  # bucket -> highest count in any window
        self.used_by_window: dict[tuple[str, int], int] = defaultdict(int)
        self.violations = 0  # requests that arrived while a Retry-After was in force
        self._hmac: dict[str, str] = {api_key: api_secret}
        self._public: dict[str, Any] = {}
        self._windows: dict[str, _Window] = defaultdict(_Window)
        self._retry_until: dict[str, int] = {}
        self._banned_until = 0
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
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
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

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

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each hits the next matching request(s), ``times`` over."""
        self.faults.extend(faults)

    def now_ms(self) -> int:
        """The simulated server clock."""
        return int(self.wall() * 1000) + self.skew_ms

    def burn(self, kind: str, path: str, amount: int) -> None:
        """Spend weight as another program on the same account/IP would."""
        self._charge(self._bucket(kind, path), amount, self.now_ms())

    def used(self, kind: str, path: str) -> int:
        """Weight used in the current window of one bucket."""
        w = self._windows[self._bucket(kind, path)]
        return w.used if w.window == self.now_ms() // self.window_ms else 0

    def executed(self, path: str) -> list[Execution]:
        return [e for e in self.executions if e.path == path]

    # -- request handling --------------------------------------------------------------------

    @staticmethod
    def _bucket(kind: str, path: str) -> str:
        return "API" if kind == "API" else f"{kind}:{path}"

    def _charge(self, bucket: str, amount: int, now: int) -> int:
        w = self._windows[bucket]
        window = now // self.window_ms
        if w.window != window:
            w.window, w.used = window, 0
        w.used += amount
        self.used_by_window[(bucket, window)] = w.used
        self.max_used[bucket] = max(self.max_used[bucket], w.used)
        return w.used

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
        if self._banned_until > now:
            headers["Retry-After"] = str(math.ceil((self._banned_until - now) / 1000))
            raise SimError(-1003, f"Way too much request weight used; IP banned until "
                           f"{self._banned_until}.", 418)
        rt = ROUTES.get((method, path))
        if rt is None:
            raise SimError(-1000, f"no such endpoint {method} {path}", 404)
        for part in (raw_query, body.decode("latin-1")):
            for name, value in parse_qsl(part, keep_blank_values=True):
                if name in params:
                    raise SimError(-1101, f"Duplicate values for parameter '{name}'.")
                params[name] = value
        key = request.headers.get("X-MBX-APIKEY")
        if rt.api_key:
            if not key:
                raise SimError(-2014, "API-key format invalid.", 401)
            if key not in self._hmac and key not in self._public:
                raise SimError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        bucket = self._bucket(rt.kind, path)
        self._check_weight(rt, bucket, params, now, headers)
        if rt.signed:
            self._check_signature(key or "", raw_query, body, params)
            self._check_timestamp(params, now)
            for name in ("timestamp", "recvWindow", "signature"):
                params.pop(name, None)
        self._check_params(rt, params)
        fault = self._take_fault(method, path)
        return await self._respond(request, rt, params, now, headers, fault)

    def _check_weight(self, rt: Route, bucket: str, params: dict[str, str], now: int,
                      headers: dict[str, str]) -> None:
        header = {"UID": "X-SAPI-USED-UID-WEIGHT-1M", "IP": "X-SAPI-USED-IP-WEIGHT-1M",
                  "API": "X-MBX-USED-WEIGHT-1M"}[rt.kind]
        scope = rt.kind
        if self._retry_until.get(scope, 0) > now:
            self.violations += 1
            if self.violations >= self.ban_after_violations:
                self._banned_until = now + self.ban_s * 1000
                headers["Retry-After"] = str(self.ban_s)
                raise SimError(-1003, f"Way too much request weight used; IP banned until "
                               f"{self._banned_until}.", 418)
        weight = rt.weight_for(params)
        w = self._windows[bucket]
        window = now // self.window_ms
        used = w.used if w.window == window else 0
        if used + weight > self.limits[rt.kind]:
            end = (window + 1) * self.window_ms
            self._retry_until[scope] = end
            headers[header] = str(used)
            headers["Retry-After"] = str(max(1, math.ceil((end - now) / 1000)))
            raise SimError(-1003, f"Too much request weight used; current limit is "
                           f"{self.limits[rt.kind]} request weight per 1 MINUTE.", 429)
        headers[header] = str(self._charge(bucket, weight, now))

    def _check_signature(self, key: str, raw_query: str, body: bytes,
                         params: dict[str, str]) -> None:
        if "signature" not in params:
            raise SimError(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, "
                           "or malformed.")
        # Binance signs query + body concatenated, each without its signature pair.
        payload = _strip_signature(raw_query) + _strip_signature(body.decode("latin-1"))
        signature = params["signature"]
        secret = self._hmac.get(key)
        if secret is not None:
            expected = hmac.new(secret.encode(), payload.encode("latin-1"), hashlib.sha256)
            if hmac.compare_digest(expected.hexdigest(), signature.lower()):
                return
        elif key in self._public and _verify(self._public[key], payload.encode("latin-1"),
                                             signature):
            return
        raise SimError(-1022, "Signature for this request is not valid.")

    @staticmethod
    def _check_timestamp(params: dict[str, str], now: int) -> None:
        try:
            ts = int(params["timestamp"])
            recv_window = int(params.get("recvWindow", "5000"))
        except (KeyError, ValueError):
            raise SimError(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, "
                           "or malformed.") from None
        if recv_window > 60_000 or recv_window <= 0:
            raise SimError(-1131, "recvWindow must be less than 60000")
        if ts >= now + 1000:
            raise SimError(-1021, "Timestamp for this request was 1000ms ahead of the server's "
                           "time.")
        if now - ts > recv_window:
            raise SimError(-1021, "Timestamp for this request is outside of the recvWindow.")

    @staticmethod
    def _check_params(rt: Route, params: dict[str, str]) -> None:
        for name in params:
            if name not in rt.params:
                raise SimError(-1104, f"Not all sent parameters were read; read "
                               f"{len(rt.params)} parameter(s) but was sent {len(params)}.")
        for name in rt.required:
            if not params.get(name):
                raise SimError(-1102, f"Mandatory parameter '{name}' was not sent, was "
                               "empty/null, or malformed.")

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


def _strip_signature(part: str) -> str:
    if "signature=" not in part:
        return part
    return "&".join(p for p in part.split("&") if not p.startswith("signature="))


def _verify(public_key: Any, payload: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw = base64.b64decode(unquote(signature), validate=True)
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(raw, payload)
        else:
            public_key.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
