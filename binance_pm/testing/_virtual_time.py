"""VirtualTime: a time source whose sleeps return at once, for tests that would wait out windows.

Give the same object to the client and the simulator::

    vt = VirtualTime()
    async with FakeBinance(wall=vt.wall) as sim, Client(..., time_source=vt) as client:
        ...  # a call that waits for the next weight window returns in milliseconds

Virtual time is real time plus an offset. A sleeper registers when it wants to wake; on the
loop's next turn the offset jumps to the earliest such moment and every sleeper due by then wakes,
so tasks that start waiting in the same turn share one jump instead of adding theirs up. Time never
goes back, and network I/O still takes real time, so timeouts keep working.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time

__all__ = ["VirtualTime"]


class VirtualTime:
    """A :class:`binance_pm.TimeSource` that skips its sleeps."""

    def __init__(self) -> None:
        self.offset = 0.0  # seconds skipped so far
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._scheduled = False

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def wall(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        if not seconds > 0:
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self.monotonic() + seconds, next(self._order), waiter))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._advance, loop)
        await waiter

    def _advance(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = False
        sleepers = self._sleepers
        while sleepers and sleepers[0][2].done():  # cancelled sleepers
            heapq.heappop(sleepers)
        if not sleepers:
            return
        lag = sleepers[0][0] - self.monotonic()
        if lag > 0:
            self.offset += lag
        now = self.monotonic()
        while sleepers and sleepers[0][0] <= now:
            waiter = heapq.heappop(sleepers)[2]
            if not waiter.done():
                waiter.set_result(None)
        if sleepers:
            self._scheduled = True
            loop.call_soon(self._advance, loop)

    def __repr__(self) -> str:
        return f"VirtualTime(offset={self.offset:.3f})"
