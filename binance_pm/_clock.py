"""ServerClock: Binance server time, estimated locally without trusting the wall clock.

A sync takes a few samples of ``GET /api/v3/time`` and keeps the one with the lowest round trip,
taking the server's stamp as the midpoint of that trip. Server time is then anchored to the
*monotonic* clock, so a wall clock that drifts or is stepped does not move it. A resync happens
lazily when the estimate is older than ``resync_interval``, when wall and monotonic time disagree
(the machine slept or its clock jumped), and at once after a ``-1021``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import attrs

from ._constants import (
    CLOCK_JUMP_TOLERANCE_S,
    CLOCK_RESYNC_INTERVAL_S,
    CLOCK_SAMPLES,
    WEIGHT_EDGE_MARGIN_MS,
)

__all__ = ["ClockSample", "ServerClock"]

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

    fetch: FetchServerTime
    samples: int = CLOCK_SAMPLES
    resync_interval: float = CLOCK_RESYNC_INTERVAL_S
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    _anchor_server_ms: float = attrs.field(init=False, default=0.0)
    _anchor_mono: float = attrs.field(init=False, default=0.0)
    _anchor_wall: float = attrs.field(init=False, default=0.0)
    _synced: bool = attrs.field(init=False, default=False)
    _generation: int = attrs.field(init=False, default=0)
    _best_rtt: float = attrs.field(init=False, default=0.0)
    _lock: asyncio.Lock = attrs.field(init=False, factory=asyncio.Lock)

    @property
    def generation(self) -> int:
        """Bumped by every sync; a request remembers it to tell whether a resync already happened."""
        return self._generation

    @property
    def rtt(self) -> float:
        """Round trip of the sample the current estimate came from, in seconds."""
        return self._best_rtt

    def edge_ms(self) -> float:
        """How far (ms) our estimate may sit from the server's clock: the sync's round trip plus a
        margin. The weight limiter charges requests this close to a window boundary to both sides."""
        return self._best_rtt * 1000 + WEIGHT_EDGE_MARGIN_MS

    @property
    def offset_ms(self) -> float:
        """Server time minus local wall time, in milliseconds (for display; not used to sign)."""
        return self.now_ms() - self.wall() * 1000

    def stale(self) -> bool:
        """True when the next signed request must wait for a sync (a cheap check, no await)."""
        if not self._synced:
            return True
        elapsed = self.monotonic() - self._anchor_mono
        if elapsed > self.resync_interval:
            return True
        return abs((self.wall() - self._anchor_wall) - elapsed) > CLOCK_JUMP_TOLERANCE_S

    async def ensure_synced(self) -> None:
        """Sync if there is no fresh estimate; concurrent callers share one sync."""
        if self.stale():
            async with self._lock:
                if self.stale():
                    await self._sync()

    async def resync(self, seen_generation: int) -> None:
        """Resync after a ``-1021``, unless another task already did since ``seen_generation``."""
        async with self._lock:
            if self._generation == seen_generation:
                await self._sync()

    def now_ms(self) -> int:
        """Estimated server time in integer milliseconds (local wall time until the first sync)."""
        if not self._synced:
            return int(self.wall() * 1000)
        return int(self._anchor_server_ms + (self.monotonic() - self._anchor_mono) * 1000)

    def set(self, server_ms: float, *, rtt: float = 0.0) -> None:
        """Anchor the clock to a known server time now (used by tests and by ``_sync``)."""
        self._anchor_server_ms = server_ms
        self._anchor_mono = self.monotonic()
        self._anchor_wall = self.wall()
        self._best_rtt = rtt
        self._synced = True
        self._generation += 1

    async def _sync(self) -> None:
        best: ClockSample | None = None
        for _ in range(max(1, self.samples)):
            sent = self.monotonic()
            server_ms = await self.fetch()
            sample = ClockSample(server_ms, sent, self.monotonic())
            if best is None or sample.rtt < best.rtt:
                best = sample
        assert best is not None
        # Carry the midpoint's estimate forward to now on the monotonic clock.
        self.set(best.server_ms + (self.monotonic() - best.midpoint) * 1000, rtt=best.rtt)
