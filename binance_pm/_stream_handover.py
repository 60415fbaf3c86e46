"""Which socket's frames reach the caller while one connection replaces another, with no I/O.

Binance sends each event to every open connection of a listen key, in the same order. During a
rotation the old socket (the primary) keeps delivering while the new one (the standby) has its
frames held. The new socket has caught up once one frame has arrived on both: every earlier
frame of the old socket was read before it (one socket is in order) and every later one goes to
the new socket too. Then the new socket takes over, its held frames minus those the old one
already delivered go out, and later repeats of the old socket's frames are dropped as they come.

Frames are compared whole, and only across the two sockets, with counts: two distinct events can
share a type and a millisecond, and two identical frames on one socket are two events. The one
case it cannot tell apart: a frame sent just before the new socket opened and an identical one
just after (same type, millisecond and values) are taken as one event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Handover"]

C = TypeVar("C")


class Handover(Generic[C]):
    """Routes frames from ``primary`` and ``standby`` to ``deliver``, each event exactly once.

    ``on_switch(old)`` is called when the standby takes over, with the old primary to close.
    """

    __slots__ = ("_deliver", "_echo", "_held", "_on_switch", "primary", "standby")

    def __init__(self, deliver: Callable[[str], None], on_switch: Callable[[C], None]) -> None:
        self._deliver = deliver
        self._on_switch = on_switch
        self.primary: C | None = None
        self.standby: C | None = None
        self._held: list[str] = []  # the standby's frames, until it has caught up
        self._echo: Counter[str] = Counter()  # old socket's frames the new one will repeat

    def reset(self, primary: C | None) -> None:
        """A fresh start on ``primary`` (after a gap): nothing is held or expected."""
        self.primary, self.standby = primary, None
        self._held = []
        self._echo.clear()

    def begin(self, standby: C) -> None:
        """Start holding ``standby``'s frames beside the primary."""
        self.standby = standby
        self._held = []
        self._echo.clear()

    def abandon(self) -> C | None:
        """Give up the standby (it failed); the primary goes on alone. Returns it to close."""
        standby, self.standby = self.standby, None
        self._held = []
        self._echo.clear()
        return standby

    def switch(self) -> None:
        """The standby becomes the primary; its held frames not yet delivered go out."""
        old, new = self.primary, self.standby
        if new is None:
            raise RuntimeError("no standby to switch to")
        self.primary, self.standby = new, None
        held, self._held = self._held, []
        for frame in held:
            if not self._cancel(frame):
                self._deliver(frame)
        if old is not None:
            self._on_switch(old)

    def on_frame(self, conn: C, frame: str) -> None:
        if conn is self.primary:
            if self.standby is not None:
                self._echo[frame] += 1
                self._deliver(frame)
                if frame in self._held:
                    self.switch()  # the new socket already has it: it has caught up
            elif not (self._echo and self._cancel(frame)):
                self._deliver(frame)
        elif conn is self.standby:
            if self._cancel(frame):
                self.switch()
            else:
                self._held.append(frame)
        # else: a replaced socket not yet closed; what it still says, the new one says too

    def _cancel(self, frame: str) -> bool:
        n = self._echo.get(frame)
        if not n:
            return False
        if n == 1:
            del self._echo[frame]
        else:
            self._echo[frame] = n - 1
        return True
