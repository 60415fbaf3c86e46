"""UserStream: the Portfolio Margin Pro user data stream, kept alive for as long as you iterate.

::

    async with client.user_stream() as stream:
        async for event in stream:   # AccountUpdate | RiskLevelChange | StreamGap | UnknownEvent
            ...

Three tasks of its own, all ended by ``__aexit__``: the supervisor (watchdog, reconnect, rotation),
the reader of each socket (``_stream_conn``), and the keep-alive. Events reach the caller through
one queue, in the order the server sent them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import aiohttp

from ._errors import (
    APIError,
    AuthenticationError,
    BinanceError,
    InvalidResponseError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._listen_key import (
    CLOSE_LISTEN_KEY,
    CREATE_LISTEN_KEY,
    KEEPALIVE_LISTEN_KEY,
    KEY_GONE,
    listen_key,
    nothing,
)
from ._models import AccountInfo
from ._secret import Secret
from ._session import Session
from ._stream_conn import Connection, open_connection
from ._stream_handover import Handover
from ._stream_models import (
    LISTEN_KEY_EXPIRED,
    Event,
    GapReason,
    MalformedFrame,
    StreamGap,
    decode_frame,
    parse_event,
)

__all__ = ["UserStream", "reconnect_delay"]

log = logging.getLogger("binance_pm")

# Failures of the listen-key POST worth retrying; anything else (a refused API key) is for the caller.
_PASSING = (TransportError, ServerError, RateLimitError, InvalidResponseError)
FIRST_BACKOFF_S = 0.25


def reconnect_delay(attempt: int, cap: float, rng: random.Random) -> float:
    """Seconds before reconnect attempt ``attempt`` (0 = the first, at once).

    Attempt ``n >= 1`` waits ``uniform(d/2, d)`` with ``d = min(cap, 0.25 * 2**(n-1))``: half the
    wait is fixed so that retries stay spaced, half is jitter so that many bots do not reconnect
    in step after an outage.
    """
    if attempt == 0:
        return 0.0
    d = min(cap, FIRST_BACKOFF_S * 2 ** min(attempt - 1, 30))
    return rng.uniform(d / 2, d)


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


class UserStream:
    """The PM Pro user data stream: an async context manager and an async iterator of events.

    - Listen key: created on entry (``POST /fapi/v1/listenKey``, IP weight 1, API key only), kept
      alive by a ``PUT`` every ``keepalive_interval`` seconds, created anew after ``-1125``, a
      ``listenKeyExpired`` event or a refused connect. The key belongs to the account and is shared
      by every process on it: exit ``DELETE``\\ s it only with ``close_listen_key=True``.
    - Watchdog: no frame (pings included) for ``heartbeat_timeout`` seconds means the socket is
      dead though it looks open: it is aborted and replaced.
    - Reconnect: at once, then with capped, jittered back-off (``reconnect_delay``), for as long as
      you iterate. After every interruption one :class:`StreamGap` comes before the next event,
      with an ``account_info()`` snapshot taken after the new socket opened.
    - Rotation: ``rotate_after`` seconds after a socket opened (Binance cuts at 24 h) a new one is
      opened, then the old one closed; events seen on both come out once. No gap.
    - Errors: an API key Binance refuses raises :class:`AuthenticationError` from ``async with``
      (or from the iteration, if it is revoked later); nothing else ends the iteration.
    - Time: keep-alive, back-off and gap times follow the client's time source; the watchdog and
      rotation run on the event loop's real clock.
    - Events queue up while you are busy elsewhere; none is dropped.
    """

    def __init__(
        self,
        *,
        session: Session,
        snapshot: Callable[[], Awaitable[AccountInfo]],
        stream_url: str,
        heartbeat_timeout: float = 15.0,
        keepalive_interval: float = 1800.0,
        rotate_after: float = 23 * 3600.0,
        close_listen_key: bool = False,
        backoff_cap: float = 30.0,
        connect_timeout: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self._session = session
        self._snapshot = snapshot
        self._stream_url = stream_url.rstrip("/")
        self._heartbeat = _positive("heartbeat_timeout", heartbeat_timeout)
        self._keepalive = _positive("keepalive_interval", keepalive_interval)
        self._rotate_after = _positive("rotate_after", rotate_after)
        self._backoff_cap = _positive("backoff_cap", backoff_cap)
        self._connect_timeout = _positive("connect_timeout", connect_timeout)
        self._close_key = bool(close_listen_key)
        self._rng = rng if rng is not None else random.Random()
        self._queue: asyncio.Queue[Event | _Failure] = asyncio.Queue()
        self._state = "new"  # -> "open" -> "closed"
        self._error: BaseException | None = None
        self._http: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._key: Secret[str] | None = None
        # The client's time source: keep-alive, back-off and gap times follow it (virtual time in
        # tests skips the long waits). The watchdog and rotation judge the socket on the loop's
        # real clock instead, since that is the clock its frames arrive on.
        self._time = session.time
        self._key_touched = 0.0  # time-source monotonic of the last successful POST or PUT
        self._need_key = False
        # The socket being read and, while rotating, its successor.
        self._route: Handover[Connection] = Handover(self._deliver, self._switched)
        self._retired: list[Connection] = []  # replaced sockets the supervisor still has to close
        self._overlap_until = 0.0
        self._next_rotation = 0.0
        self._rotation_attempt = 0
        self._gap_reason: GapReason | None = None
        self._last_event = 0.0  # wall time of the last event (or of the start, or of the last gap)
        self._wake: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        connected = self._route.primary is not None
        return f"UserStream(state={self._state!r}, connected={connected})"

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError("a UserStream can be entered only once")
        self._state = "open"
        self._last_event = self._time.wall()
        # A socket is held for a day: its own session keeps it out of the REST pool's slots.
        self._http = aiohttp.ClientSession(trust_env=False)
        try:
            await self._first_key()
            conn = None if self._need_key else await self._connect()
        except BaseException:
            self._state = "closed"
            await self._http.close()
            raise
        if conn is None:
            self._gap_reason = GapReason.REFUSED
        else:
            self._route.reset(conn)
            conn.start()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._guard(self._supervise)),
                       loop.create_task(self._guard(self._keep_alive))]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop every task, close the sockets, ``DELETE`` the key if asked; idempotent."""
        if self._state == "closed":
            return
        self._state = "closed"
        try:
            for task in self._tasks:
                task.cancel()
            if self._tasks:
                await asyncio.wait(self._tasks)
            conns = [self._route.primary, self._route.standby, *self._retired]
            self._route.reset(None)
            for conn in conns:
                if conn is not None:
                    await conn.close()
            if self._close_key and self._key is not None:
                self._key = None
                try:
                    await self._session.request(CLOSE_LISTEN_KEY, {}, nothing)
                except BinanceError as err:
                    log.warning("user stream: closing the listen key failed: %s", err)
        finally:
            if self._http is not None:
                await self._http.close()
            self._queue.put_nowait(_Failure(StopAsyncIteration()))  # wakes a waiting __anext__

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        if self._state == "new":
            raise RuntimeError("use the stream inside 'async with client.user_stream() as stream'")
        if self._error is not None:
            raise self._error
        if self._state == "closed" and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, _Failure):
            if isinstance(item.error, StopAsyncIteration):
                raise StopAsyncIteration
            self._error = item.error
            raise item.error
        return item

    # -- listen key --------------------------------------------------------------------------

    async def _first_key(self) -> None:
        try:
            await self._create_key()
        except _PASSING as err:  # retried by the supervisor like a refused connect
            log.warning("user stream: creating the listen key failed, will retry: %s", err)
            self._need_key = True
            self._gap_reason = GapReason.REFUSED

    async def _create_key(self) -> None:
        self._key = await self._session.request(CREATE_LISTEN_KEY, {}, listen_key)
        self._need_key = False
        self._key_touched = self._time.monotonic()  # the keep-alive counts from here

    async def _keep_alive(self) -> None:
        """``PUT`` one ``keepalive_interval`` after the key was created or last extended.

        It sleeps until then and looks again: a key created meanwhile has moved the time on.
        """
        clock = self._time
        failures = 0
        while True:
            delay = self._key_touched + self._keepalive - clock.monotonic()
            if delay > 0:
                await clock.sleep(delay)
                continue
            if self._key is None or self._need_key:  # the supervisor is creating a new one
                self._key_touched = clock.monotonic()
                continue
            try:
                await self._session.request(KEEPALIVE_LISTEN_KEY, {}, nothing)
            except AuthenticationError:
                raise  # the API key itself is refused: the caller must know
            except APIError as err:
                if err.code == KEY_GONE:
                    log.warning("user stream: the listen key lapsed (-1125); creating a new one")
                    self._key_touched = clock.monotonic()
                    self._expire()
                    continue
                failure: BinanceError = err
            except BinanceError as err:
                failure = err
            else:
                failures = 0
                self._key_touched = clock.monotonic()
                continue
            # Retry well inside the key's 60 minutes rather than a whole interval later.
            failures += 1
            log.warning("user stream: keep-alive failed, will retry: %s", failure)
            self._key_touched = clock.monotonic() - self._keepalive + self._retry_in(failures)

    def _retry_in(self, failures: int) -> float:
        return min(self._keepalive, reconnect_delay(failures, self._backoff_cap, self._rng))

    def _expire(self) -> None:
        """The key is gone: every socket on it is deaf. Reconnect with a new key, one gap."""
        self._need_key = True
        for conn in (self._route.standby, self._route.primary):
            if conn is not None:
                conn.kill(GapReason.KEY_EXPIRED)

    # -- sockets -------------------------------------------------------------------------------

    async def _connect(self) -> Connection | None:
        assert self._http is not None and self._key is not None
        url = f"{self._stream_url}/pm-classic/ws/{self._key.reveal()}"
        result = await open_connection(self._http, url, self._connect_timeout, self._route.on_frame)
        del url
        if isinstance(result, str):
            log.warning("user stream: could not connect: %s", result)
            return None
        return result

    async def _guard(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run one of the stream's tasks; its failure (a refused API key, a bug) goes to the caller.

        Takes the function, not a coroutine: a task cancelled before it starts would leave a
        coroutine made in advance never awaited (a RuntimeWarning).
        """
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self._queue.put_nowait(_Failure(err))

    async def _supervise(self) -> None:
        while True:
            conn = self._route.primary
            if conn is None:
                await self._recover()
            else:
                await self._watch(conn)

    async def _watch(self, conn: Connection) -> None:
        """Wait for the primary socket to die, fall silent, or reach its rotation time."""
        loop = asyncio.get_running_loop()
        assert conn.reader is not None
        self._next_rotation = max(self._next_rotation, conn.opened + self._rotate_after)
        while self._route.primary is conn:
            await self._close_retired()
            standby = self._route.standby
            wake_at = conn.last_frame + self._heartbeat
            wake_at = min(wake_at, self._overlap_until if standby else self._next_rotation)
            self._wake = loop.create_future()
            watched: list[asyncio.Future[Any]] = [conn.reader, self._wake]
            if standby is not None and standby.reader is not None:
                watched.append(standby.reader)
            await asyncio.wait(watched, timeout=max(0.0, wake_at - loop.time()),
                               return_when=asyncio.FIRST_COMPLETED)
            self._wake = None
            if self._route.primary is not conn:
                break  # the standby took over
            now = loop.time()
            if standby is not None and standby.reader is not None and standby.reader.done():
                self._drop_standby(standby)
            elif not conn.reader.done() and now >= conn.last_frame + self._heartbeat:
                conn.kill(GapReason.SILENT)
            if conn.reader.done():
                await self._lost(conn)
            elif standby is not None and now >= self._overlap_until:
                self._end_overlap(standby, conn)
            elif standby is None and now >= self._next_rotation:
                await self._rotate(conn)
        await self._close_retired()

    async def _lost(self, conn: Connection) -> None:
        reason = conn.reason if isinstance(conn.reason, GapReason) else GapReason.DROPPED
        self._raise_reader_bug(conn)
        log.info("user stream: connection lost (%s)", reason)
        standby = self._route.standby
        # During a rotation the new socket has every event sent since it opened. The old one
        # delivered all it had unless it had gone silent before the new one opened.
        if standby is not None and (reason is GapReason.DROPPED or conn.last_frame >= standby.opened):
            self._route.switch()
        else:
            if standby is not None:
                self._retired.append(standby)
            self._route.reset(None)
            self._gap_reason = reason
            self._retired.append(conn)
        await self._close_retired()

    def _raise_reader_bug(self, conn: Connection) -> None:
        reader = conn.reader
        if reader is not None and not reader.cancelled() and reader.exception() is not None:
            raise reader.exception()  # type: ignore[misc]  # checked just above

    async def _close_retired(self) -> None:
        while self._retired:
            await self._retired.pop().close()

    async def _recover(self) -> None:
        """Reconnect (new key if needed) until it works; then queue one StreamGap with a snapshot."""
        reason = self._gap_reason or GapReason.DROPPED
        attempt = 0
        while True:
            await self._time.sleep(reconnect_delay(attempt, self._backoff_cap, self._rng))
            attempt += 1
            if self._need_key or attempt > 1:  # a refused connect may mean the key is gone
                try:
                    await self._create_key()
                except _PASSING as err:
                    log.warning("user stream: creating the listen key failed: %s", err)
                    continue
            conn = await self._connect()
            if conn is not None:
                break
        # Held as the primary (not yet read: aiohttp buffers its frames) so that an exit during
        # the snapshot closes it; its events must come after the gap.
        self._route.reset(conn)
        until = self._time.wall()
        snapshot: AccountInfo | None = None
        error: str | None = None
        try:
            snapshot = await self._snapshot()
        except (BinanceError, ValueError) as err:
            error = f"{type(err).__name__}: {err}"
            log.warning("user stream: snapshot after reconnecting failed: %s", error)
        gap = StreamGap(since=_utc(self._last_event), until=_utc(until), reason=reason,
                        snapshot=snapshot, snapshot_error=error)
        log.info("user stream: reconnected after %.3fs (%s)", until - self._last_event, reason)
        self._last_event = until
        self._gap_reason = None
        self._queue.put_nowait(gap)
        self._next_rotation = 0.0
        if isinstance(conn.reason, GapReason):  # killed meanwhile (the key lapsed): again
            self._route.reset(None)
            self._gap_reason = conn.reason
            self._retired.append(conn)
            await self._close_retired()
            return
        conn.start()

    # -- rotation --------------------------------------------------------------------------------

    async def _rotate(self, old: Connection) -> None:
        """Open the next socket beside ``old``; frames of both are matched until one repeats."""
        loop = asyncio.get_running_loop()
        new = await self._connect() if self._key is not None and not self._need_key else None
        if self._route.primary is not old:
            if new is not None:
                self._retired.append(new)
            return
        if new is None:
            self._rotation_attempt += 1
            self._next_rotation = loop.time() + reconnect_delay(
                self._rotation_attempt, self._backoff_cap, self._rng)
            return
        self._rotation_attempt = 0
        self._route.begin(new)
        self._overlap_until = loop.time() + self._heartbeat
        new.start()
        log.debug("user stream: rotating to a new connection")

    def _end_overlap(self, standby: Connection, old: Connection) -> None:
        """No frame matched within heartbeat_timeout: switch unless only the old socket spoke."""
        if standby.last_frame <= standby.started and old.last_frame > standby.started:
            self._drop_standby(standby)  # the new socket is deaf: keep the old, try again later
        else:
            self._route.switch()

    def _drop_standby(self, standby: Connection) -> None:
        self._route.abandon()
        self._retired.append(standby)
        self._rotation_attempt += 1
        self._next_rotation = asyncio.get_running_loop().time() + reconnect_delay(
            self._rotation_attempt, self._backoff_cap, self._rng)

    def _switched(self, old: Connection) -> None:
        """The new socket took over (from a reader task): the supervisor closes the old one."""
        new = self._route.primary
        assert new is not None
        self._next_rotation = new.opened + self._rotate_after
        self._retired.append(old)
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    # -- frames --------------------------------------------------------------------------------

    def _deliver(self, frame: str) -> None:
        try:
            data = decode_frame(frame)
            if data["e"] == LISTEN_KEY_EXPIRED:
                self._key_expired_event(data)
                return
            event = parse_event(data)
        except MalformedFrame as err:
            log.warning("user stream: skipped a malformed frame (%d chars): %s", len(frame), err)
            return
        self._last_event = self._time.wall()
        self._queue.put_nowait(event)

    def _key_expired_event(self, data: dict[str, Any]) -> None:
        said = data.get("listenKey")
        if isinstance(said, str) and self._key is not None and said != self._key.reveal():
            log.info("user stream: listenKeyExpired for an older key, ignored")
            return
        log.warning("user stream: listenKeyExpired; creating a new key")
        self._expire()


def _utc(wall: float) -> datetime:
    return datetime.fromtimestamp(wall, tz=UTC)
