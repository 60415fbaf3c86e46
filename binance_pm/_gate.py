"""A counting gate for in-flight requests whose uncontended path awaits nothing.

``asyncio.Semaphore`` runs two coroutines per entry even when a slot is free; this gate is a plain
counter until it is full, then queues waiters in FIFO order and hands a freed slot straight to the
next one (so a newcomer cannot overtake a waiter).
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Gate"]


class Gate:
    __slots__ = ("_waiters", "free")

    def __init__(self, size: int) -> None:
        self.free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_enter(self) -> bool:
        """Take a slot if one is free and nobody is queued; never waits."""
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return True
        return False

    def busy(self) -> bool:
        """Every slot is taken or someone is queued."""
        return self.free <= 0 or bool(self._waiters)

    async def enter(self) -> None:
        """Wait for a slot (after :meth:`try_enter` said no)."""
        if self.try_enter():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # a slot was handed over as we were cancelled: pass it on
            raise

    def leave(self) -> None:
        """Give a slot back: to the longest waiter still waiting, else to the pool."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1
