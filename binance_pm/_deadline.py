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
        if task.get_loop() is not self._loop:
            self._use_loop(task.get_loop())
        return _Section(self, task, self._time.monotonic() + seconds)

    def _use_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not None and self._due:
            raise RuntimeError("this binance_pm client is in use on another event loop")
        if self._timer is not None:  # left armed on a loop no longer in use
            self._timer.cancel()
            self._timer = None
        self._loop = loop

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
        owner, deadline = self._owner, self._deadline
        owner._due[self._task] = deadline
        if owner._timer is None or deadline < owner._timer_at:
            owner._arm(deadline)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        owner, task = self._owner, self._task
        owner._due.pop(task, None)
        if task in owner._expired:  # its deadline passed: take our cancellation back
            owner._expired.discard(task)
            if task.uncancel() == 0 and exc_type is asyncio.CancelledError:
                raise TimeoutError("no response in time") from None
