"""Client: the public entry point. Owns one Session and exposes the endpoint groups."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
from yarl import URL

from ._account import Account
from ._clock import SERVER_TIME, ServerClock, parse_server_time
from ._config import NOT_GIVEN, NotGivenType, RetryPolicy, Timeout, as_timeout
from ._constants import (
    CLOCK_RESYNC_INTERVAL_S,
    DEFAULT_API_WEIGHT_LIMIT,
    DEFAULT_BASE_URL,
    DEFAULT_FUTURES_URL,
    DEFAULT_FUTURES_WEIGHT_LIMIT,
    DEFAULT_IP_WEIGHT_LIMIT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_WAIT_S,
    DEFAULT_POOL_SIZE,
    DEFAULT_RECV_WINDOW_MS,
    DEFAULT_UID_WEIGHT_LIMIT,
    DEFAULT_WEIGHT_WINDOW_S,
)
from ._endpoints import Endpoint
from ._limiter import WeightLimiter, WeightsSnapshot
from ._market import Market
from ._pools import default_pools
from ._secret import Secret
from ._session import Session
from ._signing import HmacSigner, Signer, load_private_key
from ._stores import InMemoryWindowStore, WindowStore
from ._stream import UserStream
from ._time import SYSTEM_TIME, TimeSource
from ._validate import check_max_wait, check_recv_window

__all__ = ["Client"]

T = TypeVar("T")

_DEFAULT_TIMEOUT = Timeout()
_DEFAULT_RETRY = RetryPolicy()


def _as_is(data: Any) -> Any:
    return data


def _printable_ascii(value: object) -> bool:
    # A CR/LF in a header value would let a caller's input forge headers. Returns instead of
    # raising so the raising frame holds only the boxed secret.
    return isinstance(value, str) and bool(value) and value.isascii() and value.isprintable()


class Client:
    """Async client for Binance Portfolio Margin Pro.

    ::

        async with Client(api_key=KEY, api_secret=SECRET) as client:
            loan = await client.account.pm_loan()

    Give ``api_secret`` for an HMAC key, ``private_key`` (PEM bytes/text or a path, with
    ``private_key_passphrase`` if encrypted) for an Ed25519 or RSA key, or ``signer`` (any object
    with ``sign(payload: bytes) -> str``, e.g. a key held in an HSM or a KMS). ``session`` lets
    you share your own ``aiohttp.ClientSession``; the client then never closes it.
    ``time_source`` (monotonic, wall, sleep) is where every part of the client reads the time.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        private_key: bytes | str | os.PathLike[str] | None = None,
        private_key_passphrase: bytes | str | None = None,
        signer: Signer | None = None,
        base_url: str = DEFAULT_BASE_URL,
        futures_url: str = DEFAULT_FUTURES_URL,
        stream_url: str = "wss://fstream.binance.com",
        recv_window: int = DEFAULT_RECV_WINDOW_MS,
        timeout: Timeout | float = _DEFAULT_TIMEOUT,
        retry: RetryPolicy = _DEFAULT_RETRY,
        session: aiohttp.ClientSession | None = None,
        uid_weight_limit: int = DEFAULT_UID_WEIGHT_LIMIT,
        ip_weight_limit: int = DEFAULT_IP_WEIGHT_LIMIT,
        api_weight_limit: int = DEFAULT_API_WEIGHT_LIMIT,
        futures_weight_limit: int = DEFAULT_FUTURES_WEIGHT_LIMIT,
        weight_window_s: float = DEFAULT_WEIGHT_WINDOW_S,
        limiter_store: WindowStore | None = None,
        max_wait: float = DEFAULT_MAX_WAIT_S,
        pool_size: int = DEFAULT_POOL_SIZE,
        max_body: int = DEFAULT_MAX_BODY_BYTES,
        clock_resync_s: float = CLOCK_RESYNC_INTERVAL_S,
        time_source: TimeSource = SYSTEM_TIME,
        rng: random.Random | None = None,
    ) -> None:
        # Rebind the key material first: a traceback rendered with its frames' locals (e.g.
        # traceback.TracebackException(capture_locals=True)) then shows "Secret(***)".
        secret_box = None if api_secret is None else Secret(api_secret)
        key_box = None if private_key is None else Secret(private_key)
        pass_box = None if private_key_passphrase is None else Secret(private_key_passphrase)
        api_secret = private_key = private_key_passphrase = None
        if sum(x is not None for x in (secret_box, key_box, signer)) > 1:
            raise ValueError("give one of api_secret, private_key or signer")
        if signer is not None and not isinstance(signer, Signer):
            raise TypeError(f"signer must have a sign(payload: bytes) -> str method, not {signer!r}")
        if secret_box is not None:
            if not _printable_ascii(secret_box.reveal()):
                raise ValueError("api_secret must be a non-empty printable ASCII string")
            signer = HmacSigner(secret_box.reveal())
        elif key_box is not None:
            signer = load_private_key(key_box, pass_box)
        if api_key is not None and not _printable_ascii(api_key):
            raise ValueError("api_key must be a non-empty printable ASCII string")
        base = _check_url("base_url", base_url)
        urls = {"api": base, "sapi": base, "fapi": _check_url("futures_url", futures_url)}
        if not isinstance(stream_url, str) or not stream_url.startswith(("wss://", "ws://")):
            raise ValueError(f"stream_url must start with wss:// or ws://, got {stream_url!r}")
        self._stream_url = stream_url.rstrip("/")
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1024:
            raise ValueError("max_body must be at least 1024 bytes")
        if not isinstance(time_source, TimeSource):
            raise TypeError("time_source must have monotonic(), wall() and sleep()")
        clock = ServerClock(time=time_source, resync_interval=clock_resync_s)
        pools = default_pools(
            uid=uid_weight_limit, ip=ip_weight_limit, api=api_weight_limit,
            futures=futures_weight_limit, window_s=weight_window_s,
        )
        limiter = WeightLimiter(
            now_ms=clock.now_ms,
            store=limiter_store if limiter_store is not None else InMemoryWindowStore(),
            edge_ms=clock.edge_ms,
        )
        self._session = Session(
            urls=urls,
            api_key=api_key,
            signer=signer,
            limiter=limiter,
            clock=clock,
            pools=pools,
            recv_window=check_recv_window(recv_window),
            timeout=as_timeout(timeout),
            retry=retry,
            max_wait=check_max_wait(max_wait),
            http=session,
            owns_http=session is None,
            pool_size=pool_size,
            max_body=max_body,
            time=time_source,
            rng=rng if rng is not None else random.Random(),
        )
        self._bind(self._session)

    def _bind(self, session: Session) -> None:
        self._session = session
        self.account = Account(session)
        self.market = Market(session)

    def with_options(
        self,
        *,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        retry: RetryPolicy | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> Client:
        """A cheap copy with other defaults, sharing this client's connection pool, server clock
        and weight books (so the two never overspend one budget)::

            patient = client.with_options(max_wait=120, recv_window=10_000)

        Closing the copy leaves this client open; closing this client stops the copy too.
        """
        changes: dict[str, object] = {}
        if recv_window is not NOT_GIVEN:
            changes["recv_window"] = check_recv_window(recv_window)
        if timeout is not NOT_GIVEN:
            changes["timeout"] = as_timeout(timeout)
        if retry is not NOT_GIVEN:
            if not isinstance(retry, RetryPolicy):
                raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
            changes["retry"] = retry
        if max_wait is not NOT_GIVEN:
            changes["max_wait"] = check_max_wait(max_wait)
        copy = object.__new__(Client)
        copy._stream_url = self._stream_url
        copy._bind(self._session.copy(**changes))
        return copy

    def user_stream(
        self,
        *,
        heartbeat_timeout: float = 15.0,
        keepalive_interval: float = 1800.0,
        rotate_after: float = 23 * 3600.0,
        close_listen_key: bool = False,
        backoff_cap: float = 30.0,
    ) -> UserStream:
        """The Portfolio Margin Pro user data stream (risk events), kept alive while you iterate::

            async with client.user_stream() as stream:
                async for event in stream:  # AccountUpdate | RiskLevelChange | StreamGap | UnknownEvent
                    ...

        The listen key costs weight 1 in the ``/fapi`` IP pool of ``futures_url`` per call; a
        ``StreamGap`` after an interruption carries an ``account_info()`` snapshot (UID weight 5).
        The socket goes to ``stream_url``. See :class:`UserStream`.
        """
        if self._session.is_closed():
            raise RuntimeError("this binance_pm client is closed")
        return UserStream(
            session=self._session, snapshot=self.account.account_info, stream_url=self._stream_url,
            heartbeat_timeout=heartbeat_timeout, keepalive_interval=keepalive_interval,
            rotate_after=rotate_after, close_listen_key=close_listen_key, backoff_cap=backoff_cap,
        )

    def __repr__(self) -> str:
        session = getattr(self, "_session", None)  # absent if __init__ failed
        if session is None:
            return "Client(<not initialised>)"
        return f"Client(base_url={session.urls['sapi']!r}, closed={session.is_closed()})"

    @property
    def base_url(self) -> str:
        """The host of ``/api`` and ``/sapi`` calls (read-only: build another client to change it)."""
        return self._session.urls["sapi"]

    @property
    def futures_url(self) -> str:
        """The host of ``/fapi`` calls (the user data stream's listen key)."""
        return self._session.urls["fapi"]

    @property
    def weights(self) -> WeightsSnapshot:
        """Weight used per bucket in the current window, limits, reset times, Retry-After/bans."""
        return self._session.limiter.snapshot()

    @property
    def clock(self) -> ServerClock:
        """The server-time estimate (``client.clock.offset_ms``, ``client.clock.rtt``)."""
        return self._session.clock

    @property
    def closed(self) -> bool:
        return self._session.is_closed()

    async def server_time(
        self,
        *,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> int:
        """Binance server time in epoch ms (``GET /api/v3/time``, weight 1 in the /api pool)."""
        return await self._session.request(
            SERVER_TIME, {}, parse_server_time, timeout=timeout, max_wait=max_wait
        )

    async def request(
        self,
        endpoint: Endpoint,
        params: Mapping[str, object] | None = None,
        *,
        parse: Callable[[Any], T] = _as_is,
        recv_window: int | NotGivenType = NOT_GIVEN,
        timeout: Timeout | float | NotGivenType = NOT_GIVEN,
        max_wait: float | NotGivenType = NOT_GIVEN,
    ) -> T:
        """Send any Binance REST call through this client's pipeline: the same signing, clock,
        weight books, retries and error mapping as the built-in endpoints.

        ::

            ACCOUNT = Endpoint("spot_account", "GET", "/api/v3/account", Weight(WeightKind.API, 20))
            data = await client.request(ACCOUNT)              # the JSON, amounts as Decimal

        ``params`` uses the spec's Python parameter names; ``parse`` turns the JSON into your type.
        ``/api`` and ``/sapi`` go to ``base_url``, ``/fapi`` to ``futures_url``.
        """
        if not isinstance(endpoint, Endpoint):
            raise TypeError(f"endpoint must be an Endpoint, not {type(endpoint).__name__}")
        return await self._session.request(
            endpoint, params or {}, parse, recv_window=recv_window, timeout=timeout,
            max_wait=max_wait,
        )

    async def close(self) -> None:
        """Release the connection pool (unless it is the caller's). Idempotent."""
        await self._session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _check_url(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ValueError(f"{name} must start with https:// or http://, got {value!r}")
    try:
        url = URL(value)
    except ValueError:
        url = None
    if url is None or not url.host or url.query_string or url.fragment:
        raise ValueError(f"{name} must be a URL with a host and no query, got {value!r}")
    return value.rstrip("/")
