"""Where the limiter's counts live: the WindowStore protocol and the default in-memory store."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
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
    time in milliseconds, as the limiter passes them. A method may answer at once (the in-memory
    store) or return an awaitable (``async def``, the Redis store): the limiter awaits only what
    needs it, so the default store costs no coroutine per request.
    """

    def reserve(
        self, slots: Sequence[Slot], scopes: Sequence[str], now_ms: int
    ) -> ReserveResult | Awaitable[ReserveResult]:
        """Charge every slot, or none if any would exceed its limit or a scope is blocked."""
        ...

    def release(self, slots: Sequence[Slot]) -> Awaitable[None] | None:
        """Give back a reservation whose request was never sent."""
        ...

    def observe(self, key: str, window: int, used: int) -> Awaitable[None] | None:
        """Raise a bucket's count to ``used`` (what the server reported, plus what it has not
        seen yet)."""
        ...

    def block(self, scope: str, until_ms: int, banned: bool, now_ms: int) -> Awaitable[None] | None:
        """Refuse reservations in ``scope`` until ``until_ms``."""
        ...

    def used(self, key: str, window: int) -> int:
        """A bucket's count in a window as far as this store knows without a round trip (what
        ``client.weights`` shows)."""
        ...


_CHARGED, _FULL = ReserveResult(True), ReserveResult(False)


@attrs.define
class InMemoryWindowStore:
    """The default store: plain dicts in this process, atomic because nothing in it awaits."""

    _counts: dict[tuple[str, int], int] = attrs.field(factory=dict)
    _blocks: dict[str, tuple[int, bool]] = attrs.field(factory=dict)
    _latest: dict[str, int] = attrs.field(factory=dict)  # newest window seen per bucket

    def reserve(
        self, slots: Sequence[Slot], scopes: Sequence[str], now_ms: int
    ) -> ReserveResult:
        if self._blocks:  # only after a 429 or 418
            until, banned = 0, False
            for scope in scopes:
                block = self._blocks.get(scope)
                if block is not None and block[0] > until and block[0] > now_ms:
                    until, banned = block
            if until:
                return ReserveResult(False, until, banned)
        counts = self._counts
        for key, window, amount, limit in slots:
            if counts.get((key, window), 0) + amount > limit:
                return _FULL
        for key, window, amount, _ in slots:
            counts[key, window] = counts.get((key, window), 0) + amount
            if window > self._latest.get(key, window - 1):
                self._forget_before(key, window)
        return _CHARGED

    def _forget_before(self, key: str, window: int) -> None:
        # A bucket's first charge in a new window: keep that window and the one before, so memory
        # stays flat over days.
        self._latest[key] = window
        for k in [k for k in self._counts if k[0] == key and k[1] < window - 1]:
            del self._counts[k]

    def release(self, slots: Sequence[Slot]) -> None:
        for s in slots:
            k = (s.key, s.window)
            if k in self._counts:
                self._counts[k] = max(0, self._counts[k] - s.amount)

    def observe(self, key: str, window: int, used: int) -> None:
        if used > self._counts.get((key, window), 0):
            self._counts[key, window] = used

    def block(self, scope: str, until_ms: int, banned: bool, now_ms: int) -> None:
        current = self._blocks.get(scope)
        if current is None or current[0] <= now_ms or until_ms > current[0]:
            self._blocks[scope] = (until_ms, banned)

    def used(self, key: str, window: int) -> int:
        """Current count of one bucket in one window."""
        return self._counts.get((key, window), 0)
