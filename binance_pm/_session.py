"""Session: the one place a request is built, throttled, signed, sent, retried and interpreted.

``Session.request(spec, args, parse)`` runs named stages:
encode (validate + percent-encode once) -> sync clock -> reserve weight -> sign -> send ->
reconcile weight -> interpret status/body -> parse the model. Endpoint code knows none of this.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal, InvalidOperation
from json.scanner import make_scanner
from typing import Any, NamedTuple, NoReturn, TypeVar

import aiohttp
import attrs
from yarl import URL

from ._clock import ServerClock
from ._config import NOT_GIVEN, NotGivenType, RetryPolicy, Timeout
from ._constants import DEFAULT_BAN_S, DEFAULT_MAX_WAIT_S, DEFAULT_POOL_SIZE, HEADER_API_KEY
from ._deadline import Deadlines
from ._encoding import quote_value
from ._endpoints import Endpoint
from ._errors import (
    BinanceError,
    ExecutionUnknownError,
    InvalidResponseError,
    RateLimitError,
    TransportError,
    api_error,
)
from ._gate import Gate
from ._retry import outcome_unknown, parse_retry_after, should_retry
from ._signing import HmacSigner, Signer
from ._validate import check_recv_window
from .limits import Reservation, WeightKind, WeightLimiter

__all__ = ["Session"]

log = logging.getLogger("binance_pm")
T = TypeVar("T")

_EXCERPT = 200


class _Response(NamedTuple):  # a tuple: the cheapest record to build once per response
    status: int
    headers: Mapping[str, str]
    body: bytes


Costs = tuple[tuple[WeightKind, str, int], ...]


@attrs.frozen
class _Prepared:
    """The parts of one endpoint's requests that never change on this session, built once.

    ``costs`` is None when the weight depends on the arguments; ``bare`` says that calling with
    no arguments is valid, so its query is the empty string.
    """

    spec: Endpoint
    costs: Costs | None
    bare: bool


class _NotSent(Exception):
    """The request never left this machine (connect/DNS/TLS failure): always safe to retry."""


class _MaybeSent(Exception):
    """The request may have reached the server (reset, timeout, truncated response)."""


def _describe(err: BaseException) -> str:
    # aiohttp's texts name host and port, never our query; keep it to the type and that text.
    text = str(err).split("?", 1)[0]
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


# json.loads(..., parse_float=Decimal) builds a new JSONDecoder on every call; build it once.
_JSON = json.JSONDecoder(parse_float=Decimal)
# The C scanner under JSONDecoder.decode's two Python layers (JSONDecoder builds its own the same
# way; typeshed types the argument as a scanner, CPython reads the decoder's settings from it).
_SCAN = make_scanner(_JSON)  # type: ignore[arg-type]
_JSON_SPACE = " \t\n\r"


def _decode(body: bytes) -> Any:
    """JSON with exact decimals; raises ValueError on anything that is not JSON.

    The same steps as ``json.loads(body, parse_float=Decimal)``: detect UTF-8/16/32, decode with
    ``surrogatepass``, parse, refuse anything but JSON whitespace after the value.
    """
    if len(body) > 1 and body[0] == 0x7B and body[1]:  # '{' then not NUL: what detect_encoding
        text = body.decode("utf-8", "surrogatepass")  # calls UTF-8, without it
        try:
            value, end = _SCAN(text, 0)
        except StopIteration as err:
            raise ValueError("not a JSON value") from err
        if end != len(text) and text[end:].lstrip(_JSON_SPACE):
            raise ValueError("extra data after the JSON value")
        return value
    return _JSON.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


# What aiohttp raises for a request that failed on the way; _failure says whether it left.
_TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, OSError, ValueError)


def _failure(err: BaseException) -> _NotSent | _MaybeSent:
    if isinstance(err, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return _NotSent(_describe(err))  # no connection, so nothing was sent
    return _MaybeSent(_describe(err))


def _excerpt(body: bytes) -> str:
    text = body[:_EXCERPT].decode("utf-8", "replace").strip()
    return " ".join(text.split()) or "(empty body)"


@attrs.define(repr=False)
class Session:
    """Owns the HTTP session, clock and limiter of one client (shared by ``with_options`` copies)."""

    base_url: str
    api_key: str | None
    signer: Signer | None
    limiter: WeightLimiter
    clock: ServerClock
    recv_window: int
    timeout: Timeout
    retry: RetryPolicy
    max_wait: float = DEFAULT_MAX_WAIT_S
    http: aiohttp.ClientSession | None = None
    owns_http: bool = True
    pool_size: int = DEFAULT_POOL_SIZE
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    rng: random.Random = attrs.field(factory=random.Random)
    closed: bool = False
    _gate: Gate | None = None  # at most pool_size requests hold weight and a connection
    # A with_options() copy sends through its root's HTTP session and in-flight gate.
    _root: Session | None = None
    _headers: dict[str, str] = attrs.field(factory=dict)
    _timeouts: _Timeouts = attrs.field(init=False)
    _deadlines: Deadlines = attrs.field(init=False, factory=Deadlines)
    # id(spec) -> its constant parts (the entry keeps the spec alive, so an id is never reused).
    _prepared: dict[int, _Prepared] = attrs.field(init=False, factory=dict)
    # (scheme, authority, path prefix) of base_url, and the base_url they were taken from.
    _origin: tuple[str, str, str] | None = attrs.field(init=False, default=None)
    _origin_of: str | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        if self.api_key is not None:
            self._headers = {HEADER_API_KEY: self.api_key}
        self._timeouts = _split_timeout(self.timeout)

    def _split_base_url(self) -> None:
        # URL.build from parts skips re-parsing the whole URL on every call; use it only if the
        # parts give back exactly the base URL (else every call parses the string, as before).
        self._origin, self._origin_of = None, self.base_url
        try:
            base = URL(self.base_url, encoded=True)
            origin = (base.scheme, base.raw_authority, base.raw_path.rstrip("/"))
            rebuilt = URL.build(scheme=origin[0], authority=origin[1], path=origin[2], encoded=True)
        except (ValueError, TypeError):
            return
        if str(rebuilt) == self.base_url:
            self._origin = origin

    def __repr__(self) -> str:
        return f"Session(base_url={self.base_url!r}, closed={self.closed})"

    # -- lifecycle -------------------------------------------------------------------------

    def is_closed(self) -> bool:
        """Closed itself, or a ``with_options`` copy whose root is closed."""
        return self.closed or (self._root is not None and self._root.closed)

    def _refuse_if_closed(self) -> None:
        if self.is_closed():
            raise RuntimeError("this binance_pm client is closed")

    def _http(self) -> aiohttp.ClientSession:
        self._refuse_if_closed()
        if self._root is not None:
            return self._root._http()
        if self.http is None:
            connector = aiohttp.TCPConnector(limit=self.pool_size, ttl_dns_cache=300)
            self.http = aiohttp.ClientSession(connector=connector, trust_env=False)
            # aiohttp silently resends a GET/DELETE once when a kept-alive connection drops; that
            # resend bypasses the weight books and our retry policy. There is no public switch.
            if hasattr(self.http, "_retry_connection"):
                self.http._retry_connection = False
            self.owns_http = True
        return self.http

    async def close(self) -> None:
        """Close the HTTP session if this client created it; a caller's session stays open.

        A ``with_options`` copy only stops itself: the pool belongs to its root.
        """
        if self.closed:
            return
        self.closed = True
        if self._root is None and self.http is not None and self.owns_http:
            await self.http.close()

    def copy(self, **changes: Any) -> Session:
        """A session with other defaults sharing this one's pool, gate, clock and weight books."""
        self._refuse_if_closed()
        return attrs.evolve(
            self, http=None, owns_http=False, gate=None, root=self._root or self, **changes
        )

    def _shared_gate(self) -> Gate:
        owner = self._root or self
        if owner._gate is None:
            owner._gate = Gate(owner.pool_size)
        self._gate = owner._gate
        return owner._gate

    # -- the request pipeline ----------------------------------------------------------------

    async def request(
        self,
        spec: Endpoint,
        args: Mapping[str, object],
        parse: Callable[[Any], T],
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> T:
        """Send one call described by ``spec`` and return ``parse(json)``; see the module doc."""
        if self.closed or self._root is not None:
            self._refuse_if_closed()
        prep = self._prepared.get(id(spec))
        if prep is None or prep.spec is not spec:
            prep = self._prepare(spec)
        query = "" if prep.bare and not args else spec.encode(args)
        if spec.signed:
            if self.signer is None:
                raise ValueError(f"{spec.name}() is a signed call: give api_secret or private_key")
            rw = self.recv_window if recv_window is NOT_GIVEN else check_recv_window(recv_window)
        else:
            rw = 0
        if self.api_key is None:
            raise ValueError(f"{spec.name}() needs an API key: give api_key")
        tmo = self._timeouts if timeout is NOT_GIVEN else _split_timeout(timeout)
        deadline = time.monotonic() + (self.max_wait if max_wait is NOT_GIVEN else max_wait)
        costs = prep.costs if prep.costs is not None else spec.costs(args)
        retries = 0
        resynced = False
        while True:
            if self.clock.stale():  # checked here first: most calls need no coroutine for it
                await self.clock.ensure_synced()
            generation = self.clock.generation  # after the sync: a -1021 then means "resync"
            resp = await self._exchange(prep, query, rw, costs, tmo, deadline)
            if not isinstance(resp, _Response):  # not sent, or an idempotent call: retry
                retries = await self._backoff_or_give_up(spec, retries, resp)
                continue
            status = resp.status
            if status in (418, 429):
                await self._rate_limited(spec, resp, costs, deadline)
                continue
            data, code, message = self._interpret(spec, resp)
            if code is None and 200 <= status < 300:
                try:
                    return parse(data)
                except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as err:
                    self._unparsable(spec, err)
            if code == -1021 and not resynced:
                resynced = True  # not executed: safe to re-sign and resend once, POST included
                log.info("%s %s: -1021, resyncing server time", spec.method, spec.path)
                await self.clock.resync(generation)
                continue
            if spec.is_idempotent and should_retry(status, code):
                retries = await self._backoff_or_give_up(spec, retries, resp, code, message)
                continue
            if not spec.is_idempotent and outcome_unknown(status, code):
                raise ExecutionUnknownError(
                    message, method=spec.method, path=spec.path, status=status, code=code
                )
            raise api_error(
                status, code, message, method=spec.method, path=spec.path, headers=resp.headers
            )

    def _prepare(self, spec: Endpoint) -> _Prepared:
        try:
            bare = spec.encode({}) == ""
        except (TypeError, ValueError):
            bare = False  # a required parameter: spec.encode raises it on every bare call
        costs = spec.costs({}) if spec.weight_rule is None else None
        prep = self._prepared[id(spec)] = _Prepared(spec, costs, bare)
        return prep

    async def _exchange(
        self,
        prep: _Prepared,
        query: str,
        recv_window: int,
        costs: Costs,
        timeout: _Timeouts,
        deadline: float,
    ) -> _Response | _NotSent | _MaybeSent:
        """Reserve, sign, send once. A returned failure means "retry" (never a maybe-sent POST)."""
        spec = prep.spec
        gate = self._gate or self._shared_gate()
        if not gate.try_enter():
            await gate.enter()
        try:
            now = self.clock.now_ms()  # the limiter runs on this clock: one reading for both
            reservation = self.limiter.try_acquire(costs, now)
            if reservation is None:  # must wait, or a store that awaits
                reservation = await self.limiter.acquire(costs, max(0.0, deadline - time.monotonic()))
                now = self.clock.now_ms()
            sending = False
            try:
                url = self._url(prep, query, recv_window, now)
                http = self.http
                if http is None or self.closed or self._root is not None:  # first use, or a copy
                    http = self._http()
                # The total timeout is kept by self._deadlines (one timer per client), not by
                # aiohttp (a timer per request); see _deadline.py.
                task = asyncio.current_task()
                if task is None:  # aiohttp's own timeouts refuse this case too
                    raise RuntimeError("binance_pm calls must run inside an asyncio task")
                sending = True
                deadlines = self._deadlines
                deadlines.enter(task, time.monotonic() + timeout.total)
                left = False
                # _send's body, inline: one coroutine frame fewer to pass through on every resume
                try:
                    async with await http.request(
                        spec.method, url, headers=self._headers, timeout=timeout.connect_only,
                        allow_redirects=False, raise_for_status=False,
                    ) as raw:
                        body = await raw.read()
                        resp = tuple.__new__(_Response, (raw.status, raw.headers, body))
                except asyncio.CancelledError:
                    left = True
                    if deadlines.leave(task):
                        message = f"TimeoutError: no response within {timeout.total:g}s"
                        raise _MaybeSent(message) from TimeoutError(message)
                    raise
                except _TRANSPORT_ERRORS as err:
                    raise _failure(err) from err
                finally:
                    if not left:
                        deadlines.leave(task)
            except _NotSent as err:
                await self.limiter.release(reservation)
                log.debug("%s %s not sent: %s", spec.method, spec.path, err)
                return err
            except _MaybeSent as err:
                if spec.is_idempotent:
                    log.debug("%s %s failed, will retry: %s", spec.method, spec.path, err)
                    return err
                raise ExecutionUnknownError(
                    str(err), method=spec.method, path=spec.path
                ) from err.__cause__
            except asyncio.CancelledError:
                await self._cancelled(spec, reservation, sending)
                raise
            except BaseException:
                if not sending:
                    await self.limiter.release(reservation)
                raise
        finally:
            gate.leave()
        pending = self.limiter.reconcile_now(costs, reservation, resp.headers)
        if pending is not None:
            await pending
        if log.isEnabledFor(logging.DEBUG):  # skip formatting on the hot path unless wanted
            log.debug("%s %s -> %d", spec.method, spec.path, resp.status)
        return resp

    async def _cancelled(self, spec: Endpoint, reservation: Reservation, sending: bool) -> None:
        if not sending:
            await asyncio.shield(self.limiter.release(reservation))
        elif not spec.is_idempotent:
            log.warning(
                "%s %s cancelled after it was sent: outcome unknown, check before resending",
                spec.method,
                spec.path,
            )

    def _url(self, prep: _Prepared, query: str, recv_window: int, now_ms: int) -> URL:
        """Append recvWindow, timestamp (``now_ms``) and the signature to the encoded query."""
        spec = prep.spec
        if spec.signed:
            signer = self.signer
            assert signer is not None
            stamp = f"recvWindow={recv_window}&timestamp={now_ms}" if spec.recv_window \
                else f"timestamp={now_ms}"
            payload = f"{query}&{stamp}" if query else stamp
            signature = signer.sign(payload.encode("ascii"))
            if type(signer) is not HmacSigner:  # hex needs no escaping; base64 has + / =
                signature = quote_value(signature)
            query = f"{payload}&signature={signature}"
        # encoded=True: the bytes signed are the bytes sent
        if self._origin_of is not self.base_url:
            self._split_base_url()
        if self._origin is not None:
            scheme, authority, prefix = self._origin
            return URL.build(scheme=scheme, authority=authority, path=prefix + spec.path,
                             query_string=query, encoded=True)
        raw = f"{self.base_url}{spec.path}?{query}" if query else f"{self.base_url}{spec.path}"
        return URL(raw, encoded=True)

    async def _send(self, method: str, url: URL, timeout: aiohttp.ClientTimeout) -> _Response:
        """One request outside the signed pipeline (server time); its exceptions end here."""
        http = self._http()
        try:
            # "async with await": the response's own context (release, wait for close) without
            # the request wrapper's extra layer of coroutines.
            async with await http.request(
                method,
                url,
                headers=self._headers,
                timeout=timeout,
                allow_redirects=False,
                raise_for_status=False,  # a caller's session may set it; statuses are ours to map
            ) as resp:
                body = await resp.read()
                # tuple.__new__: the namedtuple's own __new__ is Python code, run once per call
                return tuple.__new__(_Response, (resp.status, resp.headers, body))
        except _TRANSPORT_ERRORS as err:
            raise _failure(err) from err

    async def _backoff_or_give_up(
        self,
        spec: Endpoint,
        retries: int,
        resp: _Response | _NotSent | _MaybeSent,
        code: int | None = None,
        message: str = "",
    ) -> int:
        if retries >= self.retry.max_retries:
            if not isinstance(resp, _Response):
                raise TransportError(
                    f"{spec.method} {spec.path}: network failure after {retries + 1} attempts: {resp}"
                ) from resp.__cause__
            raise api_error(
                resp.status, code, message, method=spec.method, path=spec.path, headers=resp.headers
            )
        delay = self.retry.backoff(retries, self.rng)
        if isinstance(resp, _Response):
            delay = max(delay, parse_retry_after(resp.headers.get("Retry-After")) or 0.0)
        log.debug("%s %s: retry %d in %.3fs", spec.method, spec.path, retries + 1, delay)
        await self.sleep(delay)
        return retries + 1

    async def _rate_limited(
        self,
        spec: Endpoint,
        resp: _Response,
        costs: Costs,
        deadline: float,
    ) -> None:
        """Block the kind (429) or everything (418) for Retry-After, then let the loop wait."""
        banned = resp.status == 418
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        if retry_after is None:
            # No usable header: a 429 lasts until the window rolls; a ban at least its minimum.
            retry_after = DEFAULT_BAN_S if banned else self.limiter.window_remaining()
        await self.limiter.block(costs[0][0], retry_after, banned=banned)
        if time.monotonic() + retry_after > deadline:
            _, code, message = self._interpret(spec, resp)
            raise RateLimitError(
                message, retry_after=retry_after, banned=banned, status=resp.status, code=code
            )

    def _interpret(self, spec: Endpoint, resp: _Response) -> tuple[Any, int | None, str]:
        """(data, Binance code or None, message) from a response body of any shape."""
        try:
            data = _decode(resp.body)
        except ValueError:
            if 200 <= resp.status < 300:
                self._bad_success(spec, "response is not JSON: " + _excerpt(resp.body))
            return None, None, _excerpt(resp.body)
        if isinstance(data, dict) and "code" in data and "msg" in data:
            code = data["code"]
            if isinstance(code, int) and not isinstance(code, bool) and code < 0:
                return data, code, str(data["msg"])[:_EXCERPT]
        if resp.status >= 300:
            return data, None, _excerpt(resp.body)
        return data, None, ""

    def _unparsable(self, spec: Endpoint, err: Exception) -> NoReturn:
        if isinstance(err, KeyError):
            self._bad_success(spec, f"response is missing field {err}")
        self._bad_success(spec, f"unexpected response shape ({type(err).__name__}: {err})")

    def _bad_success(self, spec: Endpoint, message: str) -> NoReturn:
        message = f"{spec.name}: {message}"
        if spec.is_idempotent:
            raise InvalidResponseError(message)
        # It executed (2xx) but we cannot say with what result: never report that as a failure.
        raise ExecutionUnknownError(message, method=spec.method, path=spec.path, status=200)

    # -- server time -----------------------------------------------------------------------

    async def fetch_server_time(self) -> int:
        """``GET /api/v3/time`` (weight 1, /api pool), retried like any idempotent call."""
        url = URL(f"{self.base_url}/api/v3/time", encoded=True)
        tmo = self._timeouts.whole
        for attempt in range(self.retry.max_retries + 1):
            ban = self.limiter.snapshot()
            if ban.banned:  # a banned IP sends nothing, not even a time request
                wait = max(u.timestamp() for u in ban.blocked_until.values()) - time.time()
                if wait > self.max_wait:
                    raise RateLimitError("IP banned: no server-time request", retry_after=wait,
                                         banned=True)
                await self.sleep(max(0.0, wait))
            try:
                resp = await self._send("GET", url, tmo)
            except (_NotSent, _MaybeSent) as err:
                failure: BinanceError = TransportError(f"GET /api/v3/time: {err}")
                failure.__cause__ = err.__cause__
            else:
                if resp.status in (418, 429):
                    banned = resp.status == 418
                    told = parse_retry_after(resp.headers.get("Retry-After"))
                    if told is None:
                        told = DEFAULT_BAN_S if banned else self.limiter.window_remaining()
                    await self.limiter.block(WeightKind.API, told, banned=banned)
                    raise RateLimitError(f"GET /api/v3/time: HTTP {resp.status}",
                                         retry_after=told, banned=banned, status=resp.status)
                try:
                    data = _decode(resp.body)
                    if resp.status == 200:
                        return int(data["serverTime"])
                except (ValueError, KeyError, TypeError):
                    pass
                failure = InvalidResponseError(
                    f"GET /api/v3/time: HTTP {resp.status}: {_excerpt(resp.body)}"
                )
            if attempt == self.retry.max_retries:
                raise failure
            await self.sleep(self.retry.backoff(attempt, self.rng))
        raise AssertionError("unreachable")


class _Timeouts(NamedTuple):
    """A call's timeouts: ``total`` seconds (kept by Deadlines) with aiohttp's part (connect), and
    the ``whole`` as aiohttp keeps it (the server-time request, outside the pipeline)."""

    total: float
    connect_only: aiohttp.ClientTimeout
    whole: aiohttp.ClientTimeout


def _split_timeout(value: Timeout | float) -> _Timeouts:
    whole = _timeout(value)
    assert whole.total is not None
    return _Timeouts(whole.total, aiohttp.ClientTimeout(sock_connect=whole.sock_connect), whole)


def _timeout(value: Timeout | float) -> aiohttp.ClientTimeout:
    if isinstance(value, Timeout):
        return aiohttp.ClientTimeout(total=value.total, sock_connect=value.connect)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"timeout must be a positive number of seconds or a Timeout, got {value!r}")
    return aiohttp.ClientTimeout(total=float(value), sock_connect=float(value))
