"""Per-attempt total timeouts on one timer per client.

aiohttp's ``ClientTimeout(total=...)`` (like ``asyncio.timeout``) schedules and cancels an
event-loop timer for every request; at concurrency 50 that bookkeeping measured about 10 % of the
CPU of a whole call (benchmarks/RESULTS.md), which is why this one trick stays. Each request section
registers its task and deadline here; a single timer, armed for the earliest deadline, cancels the
tasks whose deadline has passed, and the section turns that cancellation into ``TimeoutError``
the way ``asyncio.timeout`` does (``Task.cancel`` / ``Task.uncancel``), so a cancellation from
anywhere else still propagates untouched.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from ._time import TimeSource

__all__ = ["Deadlines"]


class Deadlines:
    """Deadlines (time-source monotonic seconds) of the request sections in flight, by task."""

    def __init__(self, time: TimeSource) -> None:
        self._time = time
        self._due: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return len(self._due)

    def section(self, seconds: float) -> _Section:
        """``with deadlines.section(10):`` raises TimeoutError if the body runs past 10 s."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("binance_pm calls must run inside an asyncio task")
        loop = task.get_loop()
        if loop is not self._loop and (self._loop is None or not self._due):
            if self._timer is not None:  # left armed on a loop no longer in use
                self._timer.cancel()
                self._timer = None
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("this binance_pm client is in use on another event loop")
        return _Section(self, task, self._time.monotonic() + seconds)

    def _enter(self, task: asyncio.Task[object], deadline: float) -> None:
        self._due[task] = deadline
        if self._timer is None or deadline < self._timer_at:
            self._arm(deadline)

    def _leave(self, task: asyncio.Task[object]) -> bool:
        """Stop timing ``task``; True if its deadline passed and nothing else cancelled it."""
        self._due.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return task.uncancel() == 0
        return False

    def _arm(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        delay = max(0.0, at - self._time.monotonic())
        assert self._loop is not None
        self._timer = self._loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        now = self._time.monotonic()
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


class _Section:
    __slots__ = ("_deadline", "_owner", "_task")

    def __init__(self, owner: Deadlines, task: asyncio.Task[object], deadline: float) -> None:
        self._owner, self._task, self._deadline = owner, task, deadline

    def __enter__(self) -> None:
        self._owner._enter(self._task, self._deadline)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owner._leave(self._task) and exc_type is asyncio.CancelledError:
            raise TimeoutError("no response in time") from None
