"""ServerClock: Binance server time, estimated locally without trusting the wall clock.

A sample is one ``GET /api/v3/time`` sent through the session's pipeline; its stamp is taken as
the server's time at the midpoint of the round trip. Server time is anchored to the *monotonic*
clock, so a wall clock that drifts or is stepped does not move it.

- The first call waits for one sample only (its error is at most half a round trip, far inside
  ``recvWindow``); more samples follow in the background and the lowest round trip wins.
- Every ``resync_interval`` the estimate is refreshed in the background while calls go on with
  the current one. If refreshing fails, the last estimate is used until it is ``max_age`` old
  (quartz drift is about 50 ppm: 90 ms in 30 minutes); after that calls wait for a fresh sample.
- A wall clock that disagrees with the monotonic clock since the last sample (the machine slept,
  or its clock was stepped) and a ``-1021`` make the next call wait for a fresh sample.
- Callers that need a sample at the same time share one request and its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from ._constants import (
    CLOCK_JUMP_TOLERANCE_S,
    CLOCK_MAX_AGE_S,
    CLOCK_REFINE_SAMPLES,
    CLOCK_RESYNC_INTERVAL_S,
    CLOCK_RETRY_S,
    WEIGHT_EDGE_MARGIN_MS,
)
from ._endpoints import Endpoint, Weight
from ._pools import WeightKind
from ._time import SYSTEM_TIME, TimeSource

__all__ = [
    "FRESH", "REFRESH", "SERVER_TIME", "WAIT", "ClockSample", "ServerClock", "parse_server_time",
]

FRESH, REFRESH, WAIT = 0, 1, 2  # ServerClock.state()

log = logging.getLogger("binance_pm")

# Sends one server-time request with the caller's limits and returns Binance's stamp (ms).
FetchServerTime = Callable[[], Awaitable[int]]


@attrs.frozen
class ClockSample:
    """One measurement: the server's stamp and the local monotonic interval around it."""

    server_ms: int
    sent: float
    received: float

    @property
    def rtt(self) -> float:
        return self.received - self.sent

    @property
    def midpoint(self) -> float:
        return (self.sent + self.received) / 2


@attrs.define(repr=False)
class ServerClock:
    """Server-time estimate shared by every request of a client (and its ``with_options`` copies)."""

    time: TimeSource = SYSTEM_TIME
    resync_interval: float = CLOCK_RESYNC_INTERVAL_S
    max_age: float = CLOCK_MAX_AGE_S
    refine_samples: int = CLOCK_REFINE_SAMPLES
    _anchor_server_ms: float = attrs.field(init=False, default=0.0)
    _anchor_mono: float = attrs.field(init=False, default=0.0)
    _anchor_wall: float = attrs.field(init=False, default=0.0)
    _synced: bool = attrs.field(init=False, default=False)
    _generation: int = attrs.field(init=False, default=0)
    _best_rtt: float = attrs.field(init=False, default=0.0)
    _pending: asyncio.Future[None] | None = attrs.field(init=False, default=None)
    _background: asyncio.Task[None] | None = attrs.field(init=False, default=None)
    _last_try: float = attrs.field(init=False, default=float("-inf"))

    def __repr__(self) -> str:
        return f"ServerClock(synced={self._synced}, rtt={self._best_rtt:.4f})"

    @property
    def generation(self) -> int:
        """Bumped by every adopted sample; a request remembers it to tell whether a resync
        already happened since it was signed."""
        return self._generation

    @property
    def rtt(self) -> float:
        """Round trip of the sample the current estimate came from, in seconds."""
        return self._best_rtt

    def edge_ms(self) -> float:
        """How far (ms) our estimate may sit from the server's clock: the sample's round trip plus
        a margin. The weight limiter charges requests this close to a window boundary twice."""
        return self._best_rtt * 1000 + WEIGHT_EDGE_MARGIN_MS

    @property
    def offset_ms(self) -> float:
        """Server time minus local wall time, in milliseconds (for display; not used to sign)."""
        return self.now_ms() - self.time.wall() * 1000

    def now_ms(self) -> int:
        """Estimated server time in integer milliseconds (local wall time until the first sample)."""
        if not self._synced:
            return int(self.time.wall() * 1000)
        return int(self._anchor_server_ms + (self.time.monotonic() - self._anchor_mono) * 1000)

    def set(self, server_ms: float, *, rtt: float = 0.0) -> None:
        """Anchor the clock to a known server time now."""
        self._anchor_server_ms = server_ms
        self._anchor_mono = self.time.monotonic()
        self._anchor_wall = self.time.wall()
        self._best_rtt = rtt
        self._synced = True
        self._generation += 1

    # -- when to sample ----------------------------------------------------------------------

    def _age(self) -> float:
        return self.time.monotonic() - self._anchor_mono

    def state(self) -> int:
        """``FRESH``, ``REFRESH`` (a background refresh is due, and none is running or failed
        just now) or ``WAIT`` (the next call must wait for a sample). No await."""
        if not self._synced:
            return WAIT
        now = self.time.monotonic()
        age = now - self._anchor_mono
        if age > self.max_age or abs((self.time.wall() - self._anchor_wall) - age) > CLOCK_JUMP_TOLERANCE_S:
            return WAIT
        if (age > self.resync_interval and self._background is None
                and now - self._last_try > CLOCK_RETRY_S):
            return REFRESH
        return FRESH

    # -- sampling ----------------------------------------------------------------------------

    async def sync(self, fetch: FetchServerTime, seen_generation: int | None = None) -> None:
        """Take one sample and adopt it, unless one was adopted since ``seen_generation``.

        Concurrent callers share one request and its outcome; the caller that starts it sends
        it with its own limits (``fetch``).
        """
        while True:
            if seen_generation is not None and self._generation != seen_generation:
                return
            pending = self._pending
            if pending is None:
                break
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(pending)
            if pending.cancelled():
                continue  # its owner was cancelled: try ourselves
            pending.result()  # the shared failure, if it failed
            return
        self._pending = done = asyncio.get_running_loop().create_future()
        try:
            self._adopt(await self._sample(fetch), force=True)
        except asyncio.CancelledError:
            done.cancel()
            raise
        except BaseException as err:
            done.set_exception(err)
            done.exception()  # retrieved: waiters may all be gone
            raise
        else:
            done.set_result(None)
        finally:
            self._pending = None

    async def _sample(self, fetch: FetchServerTime) -> ClockSample:
        sent = self.time.monotonic()
        server_ms = await fetch()
        return ClockSample(server_ms, sent, self.time.monotonic())

    def _adopt(self, sample: ClockSample, *, force: bool) -> None:
        if force or sample.rtt < self._best_rtt:
            # Carry the midpoint's estimate forward to now on the monotonic clock.
            now = self.time.monotonic()
            self.set(sample.server_ms + (now - sample.midpoint) * 1000, rtt=sample.rtt)

    def refine(self, fetch: FetchServerTime) -> None:
        """Take ``refine_samples`` more in a background task: the lowest round trip wins, or the
        best of them replaces an estimate that is due for a refresh."""
        if self._background is not None:
            return
        self._last_try = self.time.monotonic()
        self._background = asyncio.get_running_loop().create_task(self._refine(fetch))

    async def _refine(self, fetch: FetchServerTime) -> None:
        try:
            stale = self._age() > self.resync_interval
            best: ClockSample | None = None
            for _ in range(self.refine_samples):
                sample = await self._sample(fetch)
                if best is None or sample.rtt < best.rtt:
                    best = sample
            if best is not None:
                self._adopt(best, force=stale)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the last estimate stays in use until max_age
            log.warning("server time refresh failed (%s): keeping the last estimate", err)
        finally:
            self._background = None

    async def aclose(self) -> None:
        """Stop a background refresh (the client is closing)."""
        task = self._background
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# Binance's clock: an ordinary unsigned call (no API key) in the /api pool; the session's clock
# samples it and clock=False keeps it from waiting for the clock itself.
SERVER_TIME = Endpoint(
    "server_time", "GET", "/api/v3/time", Weight(WeightKind.API, 1),
    signed=False, api_key=False, clock=False,
)


def parse_server_time(data: Any) -> int:
    """``serverTime`` of a ``GET /api/v3/time`` answer."""
    value = data["serverTime"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"serverTime must be an integer, got {type(value).__name__}")
    return value
