"""Where the limiter's counts live: the WindowStore protocol and the default in-memory store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

import attrs

__all__ = ["InMemoryWindowStore", "ReserveResult", "Slot", "WindowStore"]


class Slot(NamedTuple):
    """A charge of ``amount`` to bucket ``key`` in window ``window``, allowed up to ``limit``."""

    key: str
    window: int
    amount: int
    limit: int


class ReserveResult(NamedTuple):
    """``ok``: charged. Otherwise ``blocked_until_ms`` > 0 if a Retry-After or ban is in force."""

    ok: bool
    blocked_until_ms: int = 0
    banned: bool = False


class WindowStore(Protocol):
    """Where the limiter's counts live. Every method is atomic with respect to the others.

    Windows are integers (server time divided by the pool's window length); times are server
    time in milliseconds, as the limiter passes them.
    """

    async def reserve(
        self, slots: Sequence[Slot], scopes: Sequence[str], now_ms: int
    ) -> ReserveResult:
        """Charge every slot, or none if any would exceed its limit or a scope is blocked."""
        ...

    async def release(self, slots: Sequence[Slot]) -> None:
        """Give back a reservation whose request was never sent."""
        ...

    async def observe(self, key: str, window: int, used: int) -> None:
        """Raise a bucket's count to ``used`` (what the server reported, plus what it has not
        seen yet)."""
        ...

    async def block(self, scope: str, until_ms: int, banned: bool, now_ms: int) -> None:
        """Refuse reservations in ``scope`` until ``until_ms``."""
        ...


@attrs.define
class InMemoryWindowStore:
    """The default store: plain dicts in this process, atomic because nothing in it awaits."""

    _counts: dict[tuple[str, int], int] = attrs.field(factory=dict)
    _blocks: dict[str, tuple[int, bool]] = attrs.field(factory=dict)
    _latest: dict[str, int] = attrs.field(factory=dict)  # newest window seen per bucket

    async def reserve(
        self, slots: Sequence[Slot], scopes: Sequence[str], now_ms: int
    ) -> ReserveResult:
        until, banned = 0, False
        for scope in scopes:
            block = self._blocks.get(scope)
            if block is not None and block[0] > until and block[0] > now_ms:
                until, banned = block
        if until:
            return ReserveResult(False, until, banned)
        counts = self._counts
        if any(counts.get((s.key, s.window), 0) + s.amount > s.limit for s in slots):
            return ReserveResult(False)
        for s in slots:
            counts[s.key, s.window] = counts.get((s.key, s.window), 0) + s.amount
            self._forget_before(s.key, s.window)
        return ReserveResult(True)

    def _forget_before(self, key: str, window: int) -> None:
        # Keep the current and previous window of each bucket: memory stays flat over days.
        if window > self._latest.get(key, window - 1):
            self._latest[key] = window
            for k in [k for k in self._counts if k[0] == key and k[1] < window - 1]:
                del self._counts[k]

    async def release(self, slots: Sequence[Slot]) -> None:
        for s in slots:
            k = (s.key, s.window)
            if k in self._counts:
                self._counts[k] = max(0, self._counts[k] - s.amount)

    async def observe(self, key: str, window: int, used: int) -> None:
        if used > self._counts.get((key, window), 0):
            self._counts[key, window] = used

    async def block(self, scope: str, until_ms: int, banned: bool, now_ms: int) -> None:
        current = self._blocks.get(scope)
        if current is None or current[0] <= now_ms or until_ms > current[0]:
            self._blocks[scope] = (until_ms, banned)

    def used(self, key: str, window: int) -> int:
        """Current count of one bucket in one window (for tests and snapshots)."""
        return self._counts.get((key, window), 0)
