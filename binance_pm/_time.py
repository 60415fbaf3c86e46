"""One time source for the whole client: monotonic time, wall time and sleep.

The session, server clock, limiter, deadlines and stores all read time from the same object, so
two clocks are never compared by accident and tests can run on virtual time
(:class:`binance_pm.testing.VirtualTime`) instead of waiting out real weight windows.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

__all__ = ["SYSTEM_TIME", "SystemTime", "TimeSource"]


@runtime_checkable
class TimeSource(Protocol):
    """Where a client reads the time and how it waits."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (durations, deadlines)."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch (only to notice that the machine slept or its clock jumped)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemTime:
    """The real clocks and ``asyncio.sleep``."""

    __slots__ = ()

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemTime()"


SYSTEM_TIME = SystemTime()
