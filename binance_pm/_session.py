"""Session: the one place a request is prepared, throttled, signed, sent, retried and interpreted.

``Session.request(spec, args, parse)`` passes every call, server time included, through named
stages, each a small method:

    prepare   validate and encode the arguments once; pick host, weight pools and limits
    clock     wait for a server-time sample if the estimate can't be trusted (shared by callers)
    reserve   wait for weight (holding no connection slot), then hold a slot and the weight;
              the weight is given back unless the request was sent
    sign      timestamp, recvWindow and signature on the encoded query, once a slot is held
    send      the only aiohttp call, inside one error mapping that tells "never left" from
              "may have reached Binance"
    settle    tell the weight books what the server counted (a failure there is logged: the
              answer is known and is returned)
    interpret status and body -> a result, a wait and another attempt, or an exception
    parse     the endpoint's model; any failure names the endpoint

Endpoint code knows none of this.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple, NoReturn, TypeVar

import aiohttp
import attrs
from yarl import URL

from ._clock import FRESH, SERVER_TIME, WAIT, ServerClock, parse_server_time
from ._config import NOT_GIVEN, NotGivenType, RetryPolicy, Timeout, as_timeout
from ._constants import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_WAIT_S, DEFAULT_POOL_SIZE, HEADER_API_KEY
from ._deadline import Deadlines
from ._encoding import quote_value
from ._endpoints import Endpoint, Weight
from ._errors import (
    BinanceError,
    ExecutionUnknownError,
    InvalidResponseError,
    RateLimitError,
    TransportError,
    api_error,
)
from ._gate import Gate
from ._limiter import Charge, Reservation, Wait, WeightLimiter
from ._outcome import EXCERPT, ErrorMap, MaybeSent, NotSent, Response, decode, describe, excerpt
from ._pools import Pool, WeightKind
from ._retry import backoff_wait, clamp_retry_after, outcome_unknown, rate_limit_wait, should_retry
from ._signing import Signer
from ._time import SYSTEM_TIME, TimeSource
from ._validate import check_max_wait, check_recv_window

__all__ = ["Session"]

log = logging.getLogger("binance_pm")
T = TypeVar("T")


class _Target(NamedTuple):
    """Where an endpoint's calls go: scheme, host[:port] and path, each already encoded."""

    scheme: str
    authority: str
    path: str


class _Call(NamedTuple):
    """One call, prepared once and reused by every attempt."""

    spec: Endpoint
    query: str
    recv_window: int
    timeout: Timeout
    deadline: float  # time-source monotonic: no wait may end after it (max_wait)
    target: _Target
    charge: Charge
    scopes: tuple[str, ...]  # what a 429 or a ban on this call blocks

    def where(self) -> str:
        return f"{self.spec.method} {self.spec.path}"


@attrs.define(repr=False)
class Session:
    """Owns the HTTP session, clock and limiter of one client (shared by ``with_options`` copies)."""

    urls: Mapping[str, str]  # API family -> base URL
    api_key: str | None
    signer: Signer | None
    limiter: WeightLimiter
    clock: ServerClock
    pools: Mapping[tuple[str, WeightKind], Pool]
    recv_window: int
    timeout: Timeout
    retry: RetryPolicy
    max_wait: float = DEFAULT_MAX_WAIT_S
    http: aiohttp.ClientSession | None = None
    owns_http: bool = True
    pool_size: int = DEFAULT_POOL_SIZE
    max_body: int = DEFAULT_MAX_BODY_BYTES
    time: TimeSource = SYSTEM_TIME
    rng: random.Random = attrs.field(factory=random.Random)
    closed: bool = False
    # A with_options() copy sends through its root's HTTP session, slots and deadlines.
    _root: Session | None = None
    # at most pool_size requests in flight
    slots: Gate = attrs.field(default=attrs.Factory(lambda s: Gate(s.pool_size), takes_self=True))
    _deadlines: Deadlines = attrs.field(
        default=attrs.Factory(lambda s: Deadlines(s.time), takes_self=True))
    _headers: dict[str, str] = attrs.field(init=False, factory=dict)
    # spec -> where it goes, its charge and the scopes a 429 or ban on it blocks (see _route)
    _routes: dict[Endpoint, tuple[_Target, Charge, tuple[str, ...]]] = \
        attrs.field(init=False, factory=dict)
    # aiohttp's part of the default timeout (see _aiohttp_timeout), made once
    _default_aiohttp_timeout: aiohttp.ClientTimeout = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        if self.api_key is not None:
            self._headers = {HEADER_API_KEY: self.api_key}
        self._default_aiohttp_timeout = _aiohttp_timeout(self.timeout)

    def __repr__(self) -> str:
        return f"Session(base_url={self.urls.get('sapi')!r}, closed={self.is_closed()})"

    # -- lifecycle -------------------------------------------------------------------------

    def is_closed(self) -> bool:
        """Closed itself, or a ``with_options`` copy whose root is closed."""
        return self.closed or (self._root is not None and self._root.closed)

    def _http(self) -> aiohttp.ClientSession:
        if self.is_closed():
            raise RuntimeError("this binance_pm client is closed")
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
        if self._root is None:
            await self.clock.aclose()
            if self.http is not None and self.owns_http:
                await self.http.close()

    def copy(self, **changes: Any) -> Session:
        """A session with other defaults sharing this one's pool, slots, clock and weight books."""
        if self.is_closed():
            raise RuntimeError("this binance_pm client is closed")
        root = self._root or self
        return attrs.evolve(
            self, http=None, owns_http=False, root=root, slots=root.slots, deadlines=root._deadlines,
            **changes,
        )

    # -- the pipeline ----------------------------------------------------------------------

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
        call = self._prepare(spec, args, recv_window, timeout, max_wait)
        retries = 0
        resynced = False
        clock = self.clock
        while True:
            if spec.clock and clock.state() != FRESH:  # checked here: no coroutine when fresh
                await self._sync_clock(call)
            generation = clock.generation
            resp = await self._exchange(call)
            if not isinstance(resp, Response):  # never sent, or cut off after it may have left
                if isinstance(resp, MaybeSent) and not spec.is_idempotent:
                    raise ExecutionUnknownError(str(resp), method=spec.method, path=spec.path)
                retries = await self._back_off(call, retries, None, _gave_up(call, retries, resp))
                continue
            if resp.status in (418, 429):
                await self._rate_limited(call, resp)
                continue
            data, code, message = self._interpret(call, resp)
            if code is None and 200 <= resp.status < 300:
                return self._parse(call, data, parse)
            if code == -1021 and not resynced:  # never executed: safe to resend once, POST too
                resynced = True
                log.info("%s: -1021, resyncing server time", call.where())
                await self._sample_clock(call, generation)
                continue
            error = self._error(call, resp, code, message)  # raised unless it may be retried
            told = clamp_retry_after(resp.headers.get("Retry-After"), now=self.time.wall())
            retries = await self._back_off(call, retries, told, error)

    def _error(self, call: _Call, resp: Response, code: int | None, message: str) -> BinanceError:
        """The exception for an error answer; raised at once unless the call may be retried."""
        spec = call.spec
        error = api_error(resp.status, code, message, method=spec.method, path=spec.path,
                          headers=resp.headers)
        if spec.is_idempotent and should_retry(resp.status, code):
            return error
        if not spec.is_idempotent and outcome_unknown(resp.status, code):
            raise ExecutionUnknownError(message, method=spec.method, path=spec.path,
                                        status=resp.status, code=code)
        raise error

    # stage: prepare

    def _prepare(
        self,
        spec: Endpoint,
        args: Mapping[str, object],
        recv_window: int | NotGivenType,
        timeout: Timeout | float | NotGivenType,
        max_wait: float | NotGivenType,
    ) -> _Call:
        if self.is_closed():
            raise RuntimeError("this binance_pm client is closed")
        query = spec.encode(args)
        route = self._routes.get(spec) if spec.weight_rule is None else None
        if route is None:
            route = self._route(spec, spec.weight_for(args))
        rw = self.recv_window if recv_window is NOT_GIVEN else check_recv_window(recv_window)
        wait = self.max_wait if max_wait is NOT_GIVEN else check_max_wait(max_wait)
        return _Call(
            spec, query, rw,
            self.timeout if timeout is NOT_GIVEN else as_timeout(timeout),
            self.time.monotonic() + wait, *route,
        )

    def _route(self, spec: Endpoint, weight: Weight) -> tuple[_Target, Charge, tuple[str, ...]]:
        """Whether this client can make the call, and where it goes, its charge and the scopes a
        429 or ban on it blocks. The same for every call of a spec without a weight rule: cached."""
        if spec.signed and self.signer is None:
            raise ValueError(f"{spec.name}() is a signed call: give api_secret, private_key or signer")
        if spec.api_key and self.api_key is None:
            raise ValueError(f"{spec.name}() needs an API key: give api_key")
        base = self.urls.get(spec.family)
        if base is None:
            raise ValueError(f"{spec.name}(): no base URL for /{spec.family} calls on this client")
        pool = self.pools.get((spec.family, weight.kind))
        if pool is None:
            raise ValueError(f"{spec.name}(): no {weight.kind.value} weight pool for /{spec.family}")
        charge = Charge(pool, pool.bucket(spec.path), weight.amount)
        origin = URL(base)
        target = _Target(origin.scheme, origin.raw_authority,
                         origin.raw_path.rstrip("/") + spec.path)
        route = target, charge, (charge.key, f"ban:{base}")
        if spec.weight_rule is None and len(self._routes) < 1024:  # users may make many specs
            self._routes[spec] = route
        return route

    # stage: clock

    async def _sync_clock(self, call: _Call) -> None:
        if self.clock.state() == WAIT:
            await self._sample_clock(call, None)
        else:
            self.clock.refine(self._background_time)  # a refresh is due

    async def _sample_clock(self, call: _Call, seen_generation: int | None) -> None:
        """One sample sent with this call's limits (shared with concurrent callers), then more
        in the background to find the lowest round trip."""
        left = max(0.0, call.deadline - self.time.monotonic())
        await self.clock.sync(
            lambda: self.request(SERVER_TIME, {}, parse_server_time, timeout=call.timeout, max_wait=left),
            seen_generation,
        )
        self.clock.refine(self._background_time)

    async def _background_time(self) -> int:
        return await self.request(SERVER_TIME, {}, parse_server_time)

    # stages: reserve, sign, send, settle

    async def _exchange(self, call: _Call) -> Response | NotSent | MaybeSent:
        """Reserve, sign and send once; a failure comes back as a value, so the frames that held the
        signed URL are gone before any exception is raised from it."""
        async with _Reserved(self, call) as ticket:
            url = self._sign(call, ticket.now_ms)
            try:
                resp = await self._send(call, url, ticket)
            except NotSent as failure:
                ticket.sent = False
                log.debug("%s not sent: %s", call.where(), failure)
                return failure
            except MaybeSent as failure:
                log.debug("%s may have been sent: %s", call.where(), failure)
                return failure
            ticket.headers = resp.headers
            self.limiter.exchanged(self.clock.now_ms() - ticket.now_ms)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s -> %d", call.where(), resp.status)
        return resp

    async def _wait_for_weight(self, call: _Call, wait: Wait) -> None:
        why = "banned" if wait.banned else "Retry-After in force" if wait.blocked else "window full"
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: waiting %.3fs for weight (%s)", call.where(), wait.seconds, why)
        await self._wait(call, wait.seconds, RateLimitError(
            f"{call.where()}: weight not available within max_wait ({why})",
            retry_after=wait.seconds, banned=wait.banned,
        ))

    async def _wait_for_slot(self, call: _Call) -> None:
        """Every slot is busy: wait for one, bounded by the call's timeout and max_wait."""
        await _within(self._call_bound(call), self.slots.enter(), lambda waited: TransportError(
            f"{call.where()}: no free connection slot within {waited:g}s (not sent)"))

    async def _ask_store(self, call: _Call, answer: Awaitable[T]) -> T:
        """A weight store's later answer, within the call's timeout and max_wait (a frozen
        Redis must not hold a call past its own limits, whatever the store's own timeout)."""
        return await _within(self._call_bound(call), answer, lambda waited: TransportError(
            f"{call.where()}: weight store gave no answer within {waited:g}s (not sent)"))

    async def _wait_in_line(self, call: _Call, line: Gate) -> None:
        """Queue behind the calls already waiting for this bucket's weight, within max_wait."""
        if line.try_enter():
            return
        bound = max(0.0, call.deadline - self.time.monotonic())
        await _within(bound, line.enter(), lambda waited: RateLimitError(
            f"{call.where()}: weight not available within max_wait (calls ahead in line)",
            retry_after=waited))

    def _call_bound(self, call: _Call) -> float:
        """Seconds this call may still wait before sending: its timeout, and what is left of
        its max_wait."""
        return max(0.0, min(call.timeout.total, call.deadline - self.time.monotonic()))

    def _sign(self, call: _Call, now_ms: int) -> URL:
        """Append recvWindow, timestamp and signature to the encoded query: signed as sent."""
        query = call.query
        if call.spec.signed:
            assert self.signer is not None
            stamp = f"timestamp={now_ms}"
            if call.spec.recv_window:
                stamp = f"recvWindow={call.recv_window}&{stamp}"
            payload = f"{query}&{stamp}" if query else stamp
            signature = quote_value(self.signer.sign(payload.encode("ascii")))
            query = f"{payload}&signature={signature}"
        # Built from parts already encoded: parsing the whole URL again would cost more than
        # the rest of signing (yarl caches parses, but every signed URL is new).
        target = call.target
        return URL.build(scheme=target.scheme, authority=target.authority, path=target.path,
                         query_string=query, encoded=True)

    async def _send(self, call: _Call, url: URL, ticket: _Reserved) -> Response:
        """The one place aiohttp is called."""
        http = self.http
        if http is None or self.closed:  # first use, a with_options() copy, or closed
            http = self._http()
        deadlines = self._deadlines
        timeout = (self._default_aiohttp_timeout if call.timeout is self.timeout
                   else _aiohttp_timeout(call.timeout))
        with ErrorMap(), deadlines.section(call.timeout.total):
            ticket.sent = True
            # "async with await": the response's own context, without the request wrapper's
            # extra coroutine layer.
            async with await http.request(
                call.spec.method, url,
                headers=self._headers if call.spec.api_key else None,
                timeout=timeout,
                allow_redirects=False,
                raise_for_status=False,  # a caller's session may set it; statuses are ours to map
            ) as raw:
                length = raw.content_length
                if length is not None and length <= self.max_body and \
                        "Content-Encoding" not in raw.headers:
                    body = await raw.read()  # its length is known and within the cap
                else:
                    body = await self._read_capped(call, raw)
                return Response(raw.status, raw.headers, body)

    async def _read_capped(self, call: _Call, raw: aiohttp.ClientResponse) -> bytes:
        """A body of unknown or compressed length, refused past ``max_body`` bytes (decompressed)
        before it fills memory."""
        cap = self.max_body
        if raw.content_length is not None and raw.content_length > cap:
            self._oversized(call)
        body = bytearray()
        async for chunk in raw.content.iter_any():
            body += chunk
            if len(body) > cap:
                self._oversized(call)
        return bytes(body)

    def _oversized(self, call: _Call) -> NoReturn:
        self._bad_success(call, f"response body larger than max_body ({self.max_body} bytes)")

    # stages: interpret and parse

    def _interpret(self, call: _Call, resp: Response) -> tuple[Any, int | None, str]:
        """(data, Binance code or None, message) from a response body of any shape."""
        try:
            data = decode(resp.body)
        except ValueError:
            if 200 <= resp.status < 300:
                self._bad_success(call, "response is not JSON: " + excerpt(resp.body))
            return None, None, excerpt(resp.body)
        if isinstance(data, dict) and "code" in data and "msg" in data:
            code = data["code"]
            if isinstance(code, int) and not isinstance(code, bool) and code < 0:
                return data, code, str(data["msg"])[:EXCERPT]
        if resp.status >= 300:
            return data, None, excerpt(resp.body)
        return data, None, ""

    def _parse(self, call: _Call, data: Any, parse: Callable[[Any], T]) -> T:
        try:
            return parse(data)
        except BinanceError:
            raise
        except KeyError as err:
            self._bad_success(call, f"response is missing field {err}")
        except Exception as err:  # a 2xx body we can't read must never escape as a raw error
            self._bad_success(call, f"unexpected response shape ({describe(err)[:EXCERPT]})")

    def _bad_success(self, call: _Call, message: str) -> NoReturn:
        message = f"{call.spec.name}: {message} ({call.where()})"
        if call.spec.is_idempotent:
            raise InvalidResponseError(message)
        # It executed (2xx) but we cannot say with what result: never report that as a failure.
        raise ExecutionUnknownError(message, method=call.spec.method, path=call.spec.path, status=200)

    # waits: back-off, rate limits

    async def _back_off(
        self,
        call: _Call,
        retries: int,
        retry_after: float | None,
        give_up: BinanceError,
    ) -> int:
        if retries >= self.retry.max_retries:
            raise give_up
        delay = backoff_wait(retries, retry_after, self.retry, self.rng)
        log.debug("%s: retry %d in %.3fs", call.where(), retries + 1, delay)
        await self._wait(call, delay, give_up)
        return retries + 1

    async def _rate_limited(self, call: _Call, resp: Response) -> None:
        """A 429 blocks the budget it came from, a 418 everything on the host; then the next
        reserve waits for it (a 429 or 418 never executes, so resending is safe)."""
        banned = resp.status == 418
        told = clamp_retry_after(resp.headers.get("Retry-After"), now=self.time.wall())
        pool = call.charge.pool
        wait = rate_limit_wait(told, banned=banned, window_left=self.limiter.window_remaining(pool))
        for scope in call.scopes[-1:] if banned else call.scopes[:-1]:
            await self.limiter.block(scope, wait, banned=banned)
        if self.time.monotonic() + wait > call.deadline:
            _, code, message = self._interpret(call, resp)
            raise RateLimitError(f"{call.where()}: {message}", retry_after=wait, banned=banned,
                                 status=resp.status, code=code)

    async def _wait(self, call: _Call, seconds: float, give_up: BinanceError) -> None:
        """Sleep ``seconds`` unless that ends past the call's ``max_wait``: then raise ``give_up``."""
        if self.time.monotonic() + seconds > call.deadline:
            raise give_up
        await self.time.sleep(seconds)


class _Reserved:
    """``async with _Reserved(session, call) as ticket``: the call's weight and a connection
    slot are held inside; on the way out the weight is given back unless the request was sent
    (``ticket.sent``), and settled against the answer's headers if it was."""

    __slots__ = ("_call", "_session", "headers", "now_ms", "reservation", "sent")

    def __init__(self, session: Session, call: _Call) -> None:
        self._session, self._call = session, call
        self.sent = False
        self.headers: Mapping[str, str] | None = None

    async def __aenter__(self) -> _Reserved:
        """Wait for weight without holding a slot, then take a slot and charge the weight. A call
        that finds its bucket's window full waits at the head of the bucket's line, and one that
        finds others in line queues behind them: no later call takes the weight first."""
        session, call = self._session, self._call
        limiter, slots = session.limiter, session.slots
        turn: Gate | None = None  # the bucket's line, once this call is at its head
        try:
            while True:
                if turn is None:
                    line = limiter.lines.get(call.charge.key)
                    if line is not None and line.busy():
                        await session._wait_in_line(call, line)
                        turn = line
                if not slots.try_enter():
                    await session._wait_for_slot(call)
                try:
                    now = session.clock.now_ms()
                    res = limiter.reserve(call.charge, call.scopes, now)
                    if not isinstance(res, Reservation | Wait):
                        res = await session._ask_store(call, res)  # a store that answers later
                except BaseException:
                    slots.leave()
                    raise
                if isinstance(res, Reservation):
                    self.reservation, self.now_ms = res, now
                    return self
                slots.leave()
                if res.full and turn is None:
                    line = limiter.line(call.charge.key)
                    await session._wait_in_line(call, line)  # at its head once this returns
                    turn = line
                    continue  # the window may have rolled while others were served
                await session._wait_for_weight(call, res)
        finally:
            if turn is not None:
                turn.leave()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        session, call, ticket = self._session, self._call, self
        try:
            if not ticket.sent:
                release = session.limiter.release(ticket.reservation)
                await (release if exc is None else asyncio.shield(release))
                return
            if isinstance(exc, asyncio.CancelledError) and not call.spec.is_idempotent:
                log.warning("%s cancelled after it was sent: outcome unknown, check before "
                            "resending", call.where())
            # stage: settle. The answer is known: a failure here is logged, and the books are
            # repaired by the next answer.
            try:
                settling = session.limiter.settle(ticket.reservation, ticket.headers)
                if settling is not None:  # a store that answers later
                    await (settling if exc is None else asyncio.shield(settling))
            except Exception as err:
                log.warning("%s: weight books not updated (%s)", call.where(), describe(err))
        finally:
            session.slots.leave()


async def _within(
    bound: float, waiting: Awaitable[T], failure: Callable[[float], BinanceError]
) -> T:
    """``await waiting``, or raise ``failure(bound)`` once ``bound`` seconds have passed."""
    try:
        async with asyncio.timeout(bound):
            return await waiting
    except TimeoutError:
        raise failure(bound) from None


def _gave_up(call: _Call, retries: int, failure: NotSent | MaybeSent) -> BinanceError:
    return TransportError(f"{call.where()}: network failure after {retries + 1} attempts: {failure}")


def _aiohttp_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    # The total is kept by Session._deadlines. sock_connect bounds opening a connection (TCP and
    # TLS) and, unlike connect=, sets no timer when a pooled connection is reused.
    return aiohttp.ClientTimeout(total=None, sock_connect=timeout.connect)
