"""Per-request total timeouts on one timer per client.

aiohttp's own ``ClientTimeout(total=...)`` schedules and cancels an event-loop timer for every
request; on a busy client that bookkeeping (a heap push, a cancel, periodic heap rebuilds) cost
more CPU than all of binance_pm's own per-call work. Here each request section registers its task
and deadline in a dict, and a single timer, armed for the earliest deadline, cancels the tasks whose
deadline has passed. The section then turns that cancellation into a timeout, the same way
``asyncio.timeout`` and aiohttp's timer do (``Task.cancel`` and ``Task.uncancel``), so a
cancellation from anywhere else still propagates untouched.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["Deadlines"]


class Deadlines:
    """Deadlines (``time.monotonic`` seconds) of the request sections in flight, by task."""

    __slots__ = ("_due", "_expired", "_timer", "_timer_at")

    def __init__(self) -> None:
        self._due: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def __len__(self) -> int:
        return len(self._due)

    def enter(self, task: asyncio.Task[object], deadline: float) -> None:
        """Start timing ``task``; it must call :meth:`leave` when its section ends, however."""
        self._due[task] = deadline
        # Same timeout for every call: deadlines only grow, so the armed timer is early enough.
        if self._timer is None or deadline < self._timer_at:
            self._arm(deadline)

    def leave(self, task: asyncio.Task[object]) -> bool:
        """Stop timing ``task``. If its deadline passed, take back the cancellation sent for it and
        return True when nothing else asked the task to cancel (the section then times out)."""
        self._due.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return task.uncancel() == 0
        return False

    def _arm(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        delay = max(0.0, at - time.monotonic())
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        now = time.monotonic()
        earliest = None
        for task, deadline in list(self._due.items()):
            if deadline <= now:
                del self._due[task]
                self._expired.add(task)
                task.cancel()
            elif earliest is None or deadline < earliest:
                earliest = deadline
        if earliest is not None:
            self._arm(earliest)
