"""VirtualTime: a time source whose long sleeps are cut short, for tests that wait out windows.

Give the same object to the client and the simulator::

    vt = VirtualTime()
    async with FakeBinance(wall=vt.wall) as sim, Client(..., time_source=vt) as client:
        ...  # a call that waits a minute for the next weight window returns in a tenth of a second

Virtual time is real time plus an offset. ``sleep(s)`` sleeps for real at most ``grace`` seconds
(0.1 by default), then moves the offset forward so that ``s`` seconds have passed since the call.
The real part lets requests already in flight arrive before the jump, as they would have in the
real wait; tasks sleeping towards the same moment share one jump. Time never goes back.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["VirtualTime"]


class VirtualTime:
    """A :class:`binance_pm.TimeSource` that skips all but ``grace`` seconds of each sleep."""

    def __init__(self, *, grace: float = 0.1) -> None:
        self.grace = grace
        self.offset = 0.0  # seconds skipped so far

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def wall(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        target = self.monotonic() + max(0.0, seconds)
        await asyncio.sleep(min(max(0.0, seconds), self.grace))
        lag = target - self.monotonic()
        if lag > 0:
            self.offset += lag

    def __repr__(self) -> str:
        return f"VirtualTime(offset={self.offset:.3f})"
