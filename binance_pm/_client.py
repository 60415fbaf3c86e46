"""Client: the public entry point. Owns one Session and exposes the endpoint groups."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

import aiohttp

from ._account import Account
from ._clock import ServerClock
from ._config import NOT_GIVEN, NotGivenType, RetryPolicy, Timeout
from ._constants import (
    DEFAULT_API_WEIGHT_LIMIT,
    DEFAULT_BASE_URL,
    DEFAULT_IP_WEIGHT_LIMIT,
    DEFAULT_MAX_WAIT_S,
    DEFAULT_POOL_SIZE,
    DEFAULT_RECV_WINDOW_MS,
    DEFAULT_UID_WEIGHT_LIMIT,
    DEFAULT_WEIGHT_WINDOW_S,
)
from ._market import Market
from ._secret import Secret
from ._session import Session
from ._signing import HmacSigner, Signer, load_private_key
from ._stream import UserStream
from ._validate import check_recv_window
from .limits import InMemoryWindowStore, WeightKind, WeightLimiter, WeightsSnapshot, WindowStore

__all__ = ["Client"]

_DEFAULT_TIMEOUT = Timeout()
_DEFAULT_RETRY = RetryPolicy()


def _printable_ascii(value: object) -> bool:
    # A CR/LF in a header value would let a caller's input forge headers. Returns instead of
    # raising so the raising frame holds only the boxed secret.
    return isinstance(value, str) and bool(value) and value.isascii() and value.isprintable()


class Client:
    """Async client for Binance Portfolio Margin Pro.

    ::

        async with Client(api_key=KEY, api_secret=SECRET) as client:
            loan = await client.account.pm_loan()

    Give ``api_secret`` for an HMAC key, or ``private_key`` (PEM bytes/text or a path, with
    ``private_key_passphrase`` if encrypted) for an Ed25519 or RSA key. ``session`` lets you share
    your own ``aiohttp.ClientSession``; the client then never closes it.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        private_key: bytes | str | os.PathLike[str] | None = None,
        private_key_passphrase: bytes | str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        futures_url: str = "https://fapi.binance.com",
        stream_url: str = "wss://fstream.binance.com",
        recv_window: int = DEFAULT_RECV_WINDOW_MS,
        timeout: Timeout | float = _DEFAULT_TIMEOUT,
        retry: RetryPolicy = _DEFAULT_RETRY,
        session: aiohttp.ClientSession | None = None,
        uid_weight_limit: int = DEFAULT_UID_WEIGHT_LIMIT,
        ip_weight_limit: int = DEFAULT_IP_WEIGHT_LIMIT,
        api_weight_limit: int = DEFAULT_API_WEIGHT_LIMIT,
        weight_window_s: float = DEFAULT_WEIGHT_WINDOW_S,
        limiter_store: WindowStore | None = None,
        max_wait: float = DEFAULT_MAX_WAIT_S,
        pool_size: int = DEFAULT_POOL_SIZE,
        clock_resync_s: float = 300.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        # Rebind the key material first: a traceback rendered with its frames' locals (e.g.
        # traceback.TracebackException(capture_locals=True)) then shows "Secret(***)".
        secret_box = None if api_secret is None else Secret(api_secret)
        key_box = None if private_key is None else Secret(private_key)
        pass_box = None if private_key_passphrase is None else Secret(private_key_passphrase)
        api_secret = private_key = private_key_passphrase = None
        if secret_box is not None and key_box is not None:
            raise ValueError("give either api_secret or private_key, not both")
        signer: Signer | None = None
        if secret_box is not None:
            if not _printable_ascii(secret_box.reveal()):
                raise ValueError("api_secret must be a non-empty printable ASCII string")
            signer = HmacSigner(secret_box.reveal())
        elif key_box is not None:
            signer = load_private_key(key_box, pass_box)
        if api_key is not None and not _printable_ascii(api_key):
            raise ValueError("api_key must be a non-empty printable ASCII string")
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"base_url must start with https:// or http://, got {base_url!r}")
        if not futures_url.startswith(("https://", "http://")):
            raise ValueError(f"futures_url must start with https:// or http://, got {futures_url!r}")
        if not stream_url.startswith(("wss://", "ws://")):
            raise ValueError(f"stream_url must start with wss:// or ws://, got {stream_url!r}")
        # The /fapi host of the listen key; until the session routes per family it is kept here.
        self._futures_url = futures_url.rstrip("/")
        self._stream_url = stream_url.rstrip("/")
        timeout = _as_timeout(timeout)
        max_wait = _check_max_wait(max_wait)
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        clock = ServerClock(
            fetch=self._fetch_time, resync_interval=clock_resync_s, monotonic=monotonic,
            wall=wall_clock,
        )
        limiter = WeightLimiter(
            now_ms=clock.now_ms,
            store=limiter_store if limiter_store is not None else InMemoryWindowStore(),
            limits={
                WeightKind.UID: uid_weight_limit,
                WeightKind.IP: ip_weight_limit,
                WeightKind.API: api_weight_limit,
            },
            window_s=weight_window_s,
            edge_ms=clock.edge_ms,
            sleep=sleep,
            monotonic=monotonic,
        )
        self._session = Session(
            base_url=base_url.rstrip("/"),
            api_key=api_key,
            signer=signer,
            limiter=limiter,
            clock=clock,
            recv_window=check_recv_window(recv_window),
            timeout=timeout,
            retry=retry,
            max_wait=max_wait,
            http=session,
            owns_http=session is None,
            pool_size=pool_size,
            sleep=sleep,
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
            changes["timeout"] = _as_timeout(timeout)
        if retry is not NOT_GIVEN:
            if not isinstance(retry, RetryPolicy):
                raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
            changes["retry"] = retry
        if max_wait is not NOT_GIVEN:
            changes["max_wait"] = _check_max_wait(max_wait)
        copy = object.__new__(Client)
        copy._futures_url, copy._stream_url = self._futures_url, self._stream_url
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

        The listen key costs IP weight 1 per call on the futures host; a ``StreamGap`` after an
        interruption carries an ``account_info()`` snapshot (UID weight 5). See :class:`UserStream`.
        """
        # The listen key lives on the futures host: a copy of the session aimed there shares the
        # pool, clock and weight books. (Once the session routes /fapi by itself, pass it as is.)
        futures = self._session.copy(base_url=self._futures_url)
        return UserStream(
            session=futures, snapshot=self.account.account_info, stream_url=self._stream_url,
            heartbeat_timeout=heartbeat_timeout, keepalive_interval=keepalive_interval,
            rotate_after=rotate_after, close_listen_key=close_listen_key, backoff_cap=backoff_cap,
        )

    async def _fetch_time(self) -> int:
        return await self._session.fetch_server_time()

    def __repr__(self) -> str:
        session = getattr(self, "_session", None)  # absent if __init__ failed
        if session is None:
            return "Client(<not initialised>)"
        return f"Client(base_url={session.base_url!r}, closed={session.is_closed()})"

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

    async def server_time(self) -> int:
        """Binance server time in epoch ms (``GET /api/v3/time``, weight 1 in the /api pool)."""
        return await self._session.fetch_server_time()

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


def _check_max_wait(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"max_wait must be a non-negative number of seconds, got {value!r}")
    return float(value)


def _as_timeout(value: object) -> Timeout:
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"timeout must be seconds or a Timeout, not {type(value).__name__}")
    return Timeout(total=float(value), connect=min(float(value), 5.0))
