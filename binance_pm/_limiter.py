"""WeightLimiter: never send a request Binance would refuse for weight.

Binance counts weight in fixed windows of *server* time, per pool (see ``_pools``). The limiter
keeps the same books in a :class:`WindowStore`: before a request goes out it reserves the weight
in its bucket's current window (the session waits for the window to roll when it does not fit);
after the response it raises the count to what the server reports plus what this client has in
flight that the server has not counted yet (weight other programs use counts too); a 429 blocks
the budget it came from, and a 418 everything on that host, until ``Retry-After`` has passed.

A request reserved within ``edge_ms`` of a window boundary is charged to both windows, because the
server may see it on the other side of the boundary than our clock estimate does. A request also
reaches Binance some time after it is reserved (more when it opens a connection: TCP and TLS
handshakes), so the next window is charged too when the boundary is closer than the slowest
recent exchange (``lag_ms``, which decays slowly).

Other programs on the account spend the same budgets, and only an answer's usage header says how
much. So in each window the first request of a bucket goes alone: the others wait for its answer
(about one round trip) before they are charged, instead of a burst sent blind into a budget that
may already be spent.

A call that finds its bucket's window full waits in the bucket's line (``line``): calls that come
after it queue behind it instead of taking the next window's weight first, so a heavy call is not
starved by a stream of light ones in the same bucket (fair within this client; other programs
sharing a store are not in the line).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import NamedTuple

import attrs

from ._gate import Gate
from ._pools import Pool, WeightKind
from ._stores import InMemoryWindowStore, ReserveResult, Slot, WindowStore

__all__ = ["Charge", "Reservation", "Wait", "WeightLimiter", "WeightUsage", "WeightsSnapshot"]

log = logging.getLogger("binance_pm")

# lag_ms shrinks by this factor per exchange (halved in about 700 calls) unless one is slower,
# and never counts more than LAG_MAX_MS (a server that slow should not double-charge a third of
# every window).
LAG_DECAY = 0.999
LAG_MAX_MS = 2000.0
# How often a request waiting for its bucket's first answer in a window looks again (seconds).
FIRST_ANSWER_POLL_S = 0.005


class Charge(NamedTuple):
    """``amount`` of weight in bucket ``key`` of ``pool``."""

    pool: Pool
    key: str
    amount: int


class Reservation(NamedTuple):
    """What one request holds: its slots in the store (two windows near an edge) and the window
    its usage header will report. ``straddles``: charged to two windows, so a header can't be
    matched to one."""

    charge: Charge
    slots: tuple[Slot, ...]
    window: int
    straddles: bool


class Wait(NamedTuple):
    """The weight did not fit: try again in ``seconds``. ``blocked``: a Retry-After or ban.
    ``full``: the window is spent (the caller waits in its bucket's line)."""

    seconds: float
    blocked: bool
    banned: bool
    full: bool = False


@attrs.frozen
class WeightUsage:
    """One bucket's books as this client last saw them."""

    key: str
    kind: WeightKind
    used: int
    limit: int
    resets_at: datetime


@attrs.frozen
class WeightsSnapshot:
    """What ``client.weights`` returns: per-bucket usage and any Retry-After or ban in force."""

    buckets: tuple[WeightUsage, ...]
    blocked_until: Mapping[str, datetime]
    banned: bool

    def for_kind(self, kind: WeightKind) -> tuple[WeightUsage, ...]:
        return tuple(b for b in self.buckets if b.kind is kind)


async def _done(answer: Awaitable[None] | None) -> None:
    """Await a store's answer if it is not given at once."""
    if answer is not None:
        await answer


def _ms_to_dt(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@attrs.define(repr=False)
class WeightLimiter:
    """Reserves weight before a request and reconciles after it; see the module docstring."""

    now_ms: Callable[[], int]
    store: WindowStore = attrs.field(factory=InMemoryWindowStore)
    edge_ms: Callable[[], float] = lambda: 50.0
    _pools: dict[str, Pool] = attrs.field(init=False, factory=dict)  # every bucket used
    lag_ms: float = attrs.field(init=False, default=0.0)  # reserve-to-answer, slowest recently
    _inflight: defaultdict[tuple[str, int], int] = attrs.field(
        init=False, factory=lambda: defaultdict(int)
    )
    _blocked: dict[str, tuple[int, bool]] = attrs.field(init=False, factory=dict)
    _answered: dict[str, int] = attrs.field(init=False, factory=dict)  # key -> latest window
    # charge -> the reservation every call of its current window can share (without it 3.7 % more
    # instructions per call: benchmarks/RESULTS.md)
    _shared: dict[Charge, Reservation] = attrs.field(init=False, factory=dict)
    # bucket key -> its line of calls waiting for weight (made when a window first fills)
    lines: dict[str, Gate] = attrs.field(init=False, factory=dict)

    def __repr__(self) -> str:
        return f"WeightLimiter(store={self.store!r})"

    def reserve(
        self, charge: Charge, scopes: tuple[str, ...], now: int
    ) -> Reservation | Wait | Awaitable[Reservation | Wait]:
        """Charge ``charge`` in the window(s) around ``now`` (server ms), or say how long to
        wait. Answers at once when the store does; otherwise returns what to await."""
        res = self._shared.get(charge)
        if res is not None:  # still inside its window, away from both edges?
            edge, wms = int(self.edge_ms()), charge.pool.window_ms
            if not (now - edge) // wms == (now + edge + int(self.lag_ms)) // wms == res.window:
                res = None
        if res is None:
            res = self._slots(charge, now)
        key, window = charge.key, res.window
        if self._answered.get(key) != window and self._inflight.get((key, window)):
            return Wait(FIRST_ANSWER_POLL_S, False, False)  # the window's first is still out
        result = self.store.reserve(res.slots, scopes, now)
        if isinstance(result, ReserveResult):
            return self._charged(res, result, now)
        return self._charged_later(res, result, now)

    def _slots(self, charge: Charge, now: int) -> Reservation:
        """The slots ``charge`` takes at ``now``: its window's, or both windows near an edge.
        Away from the edges every call of a window shares one (immutable) reservation."""
        edge = int(self.edge_ms())
        wms = charge.pool.window_ms
        mid, lo, hi = now // wms, (now - edge) // wms, (now + edge + int(self.lag_ms)) // wms
        if charge.amount > charge.pool.limit:
            raise ValueError(f"request weight {charge.amount} exceeds the "
                             f"{charge.pool.kind.value} limit {charge.pool.limit}")
        slots = tuple(Slot(charge.key, w, charge.amount, charge.pool.limit)
                      for w in sorted({lo, mid, hi}))
        res = Reservation(charge, slots, mid, lo != hi)
        self._pools[charge.key] = charge.pool
        if lo == hi and len(self._shared) < 1024:
            self._shared[charge] = res
        return res

    async def _charged_later(
        self, res: Reservation, pending: Awaitable[ReserveResult], now: int
    ) -> Reservation | Wait:
        result = await pending
        if result.ok and not self._covers(res, self.now_ms()):
            # The store answered so late (a slow or frozen Redis) that the request would now
            # reach Binance in a window it was not charged to: give it back and charge again.
            await _done(self.store.release(res.slots))
            return Wait(0.0, False, False)
        return self._charged(res, result, now)

    def _covers(self, res: Reservation, now: int) -> bool:
        """``res`` was charged to every window a request sent at ``now`` may land in."""
        edge, wms = int(self.edge_ms()), res.charge.pool.window_ms
        windows = {s.window for s in res.slots}
        return (now - edge) // wms in windows and (now + edge + int(self.lag_ms)) // wms in windows

    def _charged(self, res: Reservation, result: ReserveResult, now: int) -> Reservation | Wait:
        charge = res.charge
        if result.ok:
            self._inflight[charge.key, res.window] += charge.amount
            return res
        if result.blocked_until_ms:
            return Wait(max(0.0, (result.blocked_until_ms - now) / 1000), True, result.banned)
        wms = charge.pool.window_ms
        wake = (now // wms + 1) * wms + int(self.edge_ms())
        return Wait((wake - now) / 1000, False, False, True)

    def line(self, key: str) -> Gate:
        """Bucket ``key``'s line: one call at its head waits for weight, the rest behind it."""
        line = self.lines.get(key)
        if line is None:
            line = self.lines[key] = Gate(1)
        return line

    def exchanged(self, elapsed_ms: float) -> None:
        """A request was answered ``elapsed_ms`` after it was reserved."""
        self.lag_ms = max(min(elapsed_ms, LAG_MAX_MS), self.lag_ms * LAG_DECAY)

    def _land(self, res: Reservation) -> None:
        """The request is no longer in flight (answered, failed or given back)."""
        flight = (res.charge.key, res.window)
        left = self._inflight[flight] - res.charge.amount
        if left > 0:
            self._inflight[flight] = left
        else:
            del self._inflight[flight]

    async def release(self, res: Reservation) -> None:
        """Give back a reservation whose request never left (failed to connect, cancelled)."""
        self._land(res)
        await _done(self.store.release(res.slots))

    def settle(
        self, res: Reservation, headers: Mapping[str, str] | None
    ) -> Awaitable[None] | None:
        """The request was sent: it is no longer in flight, and ``headers`` (None if no answer
        came) say what the server has counted. Raise the bucket to that count plus what this
        client still has in flight in the window, which the server has not seen yet. Returns
        what to await if the store does not answer at once."""
        self._land(res)
        if headers is None:
            return None
        charge, window = res.charge, res.window
        if self._answered.get(charge.key, -1) < window:
            self._answered[charge.key] = window
        raw = headers.get(charge.pool.header)
        if res.straddles or raw is None or not raw.isdigit():
            return None  # a header can't be matched to one of two windows
        used = int(raw) + self._inflight.get((charge.key, window), 0)
        # Always told to the store: a shared store may have lost its count (a restart).
        return self.store.observe(charge.key, window, used)

    async def block(self, scope: str, retry_after: float, *, banned: bool) -> None:
        """Refuse reservations in ``scope`` for ``retry_after`` seconds."""
        now = self.now_ms()
        until = now + int(retry_after * 1000)
        prev = self._blocked.get(scope)
        if prev is None or prev[0] <= now or until > prev[0]:
            self._blocked[scope] = (until, banned)
        log.warning(
            "%s: no requests in %s for %.1fs",
            "IP banned (418)" if banned else "rate limited (429)", scope, retry_after,
        )
        await _done(self.store.block(scope, until, banned, now))

    def window_remaining(self, pool: Pool) -> float:
        """Seconds until ``pool``'s current window rolls (a 429 without Retry-After waits this)."""
        now = self.now_ms()
        return ((now // pool.window_ms + 1) * pool.window_ms - now) / 1000

    def snapshot(self) -> WeightsSnapshot:
        now = self.now_ms()
        buckets = []
        for key, pool in sorted(self._pools.items()):
            current = now // pool.window_ms
            buckets.append(WeightUsage(
                key=key,
                kind=pool.kind,
                used=self.store.used(key, current),
                limit=pool.limit,
                resets_at=_ms_to_dt((current + 1) * pool.window_ms),
            ))
        blocked = {s: _ms_to_dt(u) for s, (u, _) in self._blocked.items() if u > now}
        banned = any(b and u > now for u, b in self._blocked.values())
        return WeightsSnapshot(tuple(buckets), blocked, banned)
