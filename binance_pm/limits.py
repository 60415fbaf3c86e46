"""Weight accounting: never send a request Binance would refuse for weight.

Binance counts weight in fixed one-minute windows of *server* time, separately for every SAPI
endpoint (kind IP or UID) and for the shared ``/api`` pool. The :class:`WeightLimiter` keeps the same
books: before a request goes out it reserves the request's weight in its bucket's current window
(waiting for the window to roll when it does not fit), after the response it raises its count to
what the server reports in ``X-SAPI-USED-*-WEIGHT-1M`` (weight used by other programs counts too),
and a 429/418 blocks the kind (or everything) until ``Retry-After`` has passed.

A request reserved within ``edge_ms`` of a window boundary is charged to both windows, because the
server may see it on the other side of the boundary than our clock estimate does.

The books live in a :class:`WindowStore`: :class:`InMemoryWindowStore` (default, one process) or
:class:`RedisWindowStore` (all processes and hosts on one account share one budget).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import attrs
from multidict import istr

from ._constants import (
    DEFAULT_API_WEIGHT_LIMIT,
    DEFAULT_IP_WEIGHT_LIMIT,
    DEFAULT_UID_WEIGHT_LIMIT,
    DEFAULT_WEIGHT_WINDOW_S,
    HEADER_USED_API,
    HEADER_USED_IP,
    HEADER_USED_UID,
)
from ._errors import RateLimitError, TransportError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "InMemoryWindowStore",
    "RedisWindowStore",
    "ReserveResult",
    "Slot",
    "WeightKind",
    "WeightLimiter",
    "WeightUsage",
    "WeightsSnapshot",
    "WindowStore",
    "bucket_key",
]

log = logging.getLogger("binance_pm")

BAN_SCOPE = "*"


class WeightKind(enum.StrEnum):
    """Which budget a request's weight counts against."""

    UID = "UID"  # per account, per SAPI endpoint
    IP = "IP"  # per IP address, per SAPI endpoint
    API = "API"  # the /api/* pool shared by all /api endpoints, per IP

    # Enum's own __hash__ is Python code; a member is hashed on every request (dict keys, the
    # limiter's cost tuples). Names equal values here, so str's C hash gives the same numbers.
    __hash__ = str.__hash__


# istr: aiohttp's case-insensitive headers find these without case-folding the name per lookup.
USAGE_HEADERS: Mapping[WeightKind, str] = {
    WeightKind.UID: istr(HEADER_USED_UID),
    WeightKind.IP: istr(HEADER_USED_IP),
    WeightKind.API: istr(HEADER_USED_API),
}


def bucket_key(kind: WeightKind, path: str) -> str:
    """The bucket a request counts in: Binance makes each SAPI endpoint's limit independent.

    This is the one place to change if Binance's headers turn out to count a whole kind.
    """
    if kind is WeightKind.API:
        return "API"  # one pool for every /api endpoint
    return f"{kind.value}:{path}"


class Slot(NamedTuple):
    """A charge of ``amount`` to one bucket in one window; a reservation is a tuple of these."""

    key: str
    window: int
    amount: int
    limit: int


class ReserveResult(NamedTuple):
    """``ok``: charged. Otherwise ``blocked_until_ms`` > 0 if a Retry-After/ban is in force."""

    ok: bool
    blocked_until_ms: int = 0
    banned: bool = False


# Tuples, not attrs classes: one or two of each are built per request on the hot path.
_RESERVED = ReserveResult(True)
_FULL = ReserveResult(False)


class WindowStore(Protocol):
    """Where the limiter's counts live. Every method is atomic with respect to the others."""

    async def reserve(
        self, slots: Sequence[Slot], scopes: Sequence[str], now_ms: int
    ) -> ReserveResult:
        """Charge every slot, or none if any would exceed its limit or a scope is blocked."""
        ...

    async def release(self, slots: Sequence[Slot]) -> None:
        """Give back a reservation whose request was never sent."""
        ...

    async def observe(self, key: str, window: int, used: int) -> None:
        """Raise a bucket's count to ``used`` (what the server reported)."""
        ...

    async def block(self, scope: str, until_ms: int, banned: bool) -> None:
        """Refuse reservations in ``scope`` until ``until_ms`` (server time)."""
        ...


@attrs.define
class InMemoryWindowStore:
    """The default store: plain dicts, atomic because nothing in it awaits."""

    _counts: dict[tuple[str, int], int] = attrs.field(factory=dict)
    _blocks: dict[str, tuple[int, bool]] = attrs.field(factory=dict)
    _latest_window: int = 0

    def _prune(self, window: int) -> None:
        if window > self._latest_window:
            self._latest_window = window
            for k in [k for k in self._counts if k[1] < window - 1]:
                del self._counts[k]

    async def reserve(
        self, slots: Sequence[Slot], scopes: Sequence[str], now_ms: int
    ) -> ReserveResult:
        return self.reserve_now(slots, scopes, now_ms)

    def reserve_now(
        self, slots: Sequence[Slot], scopes: Sequence[str], now_ms: int
    ) -> ReserveResult:
        """Synchronous body of :meth:`reserve` (the limiter's fast path calls it directly)."""
        blocks = self._blocks
        if blocks:  # rare: only after a 429/418, and emptied once they end
            until, banned = 0, False
            for scope in scopes:
                block = blocks.get(scope)
                if block is None:
                    continue
                if block[0] <= now_ms:
                    del blocks[scope]
                elif block[0] > until:
                    until, banned = block
            if until:
                return ReserveResult(False, until, banned)
        counts = self._counts
        for key, window, amount, limit in slots:
            if counts.get((key, window), 0) + amount > limit:
                return _FULL
        for key, window, amount, _ in slots:
            k = (key, window)
            counts[k] = counts.get(k, 0) + amount
        if slots and slots[0].window > self._latest_window:
            self._prune(slots[0].window)
        return _RESERVED

    async def release(self, slots: Sequence[Slot]) -> None:
        for s in slots:
            k = (s.key, s.window)
            if k in self._counts:
                self._counts[k] = max(0, self._counts[k] - s.amount)

    async def observe(self, key: str, window: int, used: int) -> None:
        self.observe_now(key, window, used)

    def observe_now(self, key: str, window: int, used: int) -> None:
        """Synchronous body of :meth:`observe`."""
        k = (key, window)
        if used > self._counts.get(k, 0):
            self._counts[k] = used

    async def block(self, scope: str, until_ms: int, banned: bool) -> None:
        current = self._blocks.get(scope)
        if current is None or until_ms > current[0]:
            self._blocks[scope] = (until_ms, banned)

    def used(self, key: str, window: int) -> int:
        """Current count of one bucket in one window (for tests and snapshots)."""
        return self._counts.get((key, window), 0)


# One script per operation keeps every reservation atomic across processes and hosts.
_RESERVE_LUA = """
local now = tonumber(ARGV[1])
local nscopes = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local until_ms, banned = 0, 0
for i = 1, nscopes do
  local v = redis.call('GET', KEYS[i])
  if v then
    local u = tonumber(string.match(v, '^(%d+)'))
    if u > now and u > until_ms then
      until_ms = u
      banned = tonumber(string.match(v, ':(%d)$'))
    end
  end
end
if until_ms > 0 then return {0, until_ms, banned} end
local n = #KEYS
for i = nscopes + 1, n do
  local a = tonumber(ARGV[4 + 2 * (i - nscopes - 1)])
  local limit = tonumber(ARGV[5 + 2 * (i - nscopes - 1)])
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if used + a > limit then return {0, 0, 0} end
end
for i = nscopes + 1, n do
  local a = tonumber(ARGV[4 + 2 * (i - nscopes - 1)])
  redis.call('INCRBY', KEYS[i], a)
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return {1, 0, 0}
"""

_RELEASE_LUA = """
for i = 1, #KEYS do
  local v = tonumber(redis.call('GET', KEYS[i]) or '0')
  local a = tonumber(ARGV[i])
  if v > 0 then redis.call('SET', KEYS[i], math.max(0, v - a), 'KEEPTTL') end
end
return 1
"""

_OBSERVE_LUA = """
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local used = tonumber(ARGV[1])
if used > v then redis.call('SET', KEYS[1], used, 'PX', tonumber(ARGV[2])) end
return 1
"""

_BLOCK_LUA = """
local v = redis.call('GET', KEYS[1])
local u = tonumber(ARGV[1])
if v and tonumber(string.match(v, '^(%d+)')) >= u then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', tonumber(ARGV[3]))
return 1
"""


class RedisWindowStore:
    """A store in Redis, so every process and host on one account shares one budget.

    ``RedisWindowStore(redis.asyncio.Redis(...), prefix="binance_pm")``. Needs the ``redis`` extra.
    Use one prefix per account (UID budgets) and per egress IP (IP budgets) that share the store.
    """

    def __init__(self, redis: Redis, *, prefix: str = "binance_pm", ttl_ms: int = 180_000) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl_ms = ttl_ms
        self._reserve = redis.register_script(_RESERVE_LUA)
        self._release = redis.register_script(_RELEASE_LUA)
        self._observe = redis.register_script(_OBSERVE_LUA)
        self._block = redis.register_script(_BLOCK_LUA)
        # Never ask for more connections than the pool has: redis-py fails fast, it doesn't queue.
        pool_max = getattr(redis.connection_pool, "max_connections", 0) or 50
        self._gate = asyncio.Semaphore(max(1, min(int(pool_max), 50)))

    async def _call(self, script: Any, keys: list[str], args: list[int]) -> Any:
        from redis.exceptions import RedisError

        try:
            async with self._gate:
                return await script(keys=keys, args=args)
        except RedisError as err:
            raise TransportError(f"rate-limit store (Redis) failed: {type(err).__name__}") from err

    def __repr__(self) -> str:
        return f"RedisWindowStore(prefix={self._prefix!r})"

    def _count_key(self, key: str, window: int) -> str:
        return f"{self._prefix}:w:{key}:{window}"

    def _block_key(self, scope: str) -> str:
        return f"{self._prefix}:b:{scope}"

    async def reserve(
        self, slots: Sequence[Slot], scopes: Sequence[str], now_ms: int
    ) -> ReserveResult:
        keys = [self._block_key(s) for s in scopes] + [
            self._count_key(s.key, s.window) for s in slots
        ]
        args: list[int] = [now_ms, len(scopes), self._ttl_ms]
        for s in slots:
            args += [s.amount, s.limit]
        ok, until, banned = await self._call(self._reserve, keys, args)
        return ReserveResult(bool(ok), int(until), bool(banned))

    async def release(self, slots: Sequence[Slot]) -> None:
        await self._call(
            self._release,
            [self._count_key(s.key, s.window) for s in slots],
            [s.amount for s in slots],
        )

    async def observe(self, key: str, window: int, used: int) -> None:
        await self._call(self._observe, [self._count_key(key, window)], [used, self._ttl_ms])

    async def block(self, scope: str, until_ms: int, banned: bool) -> None:
        ttl = max(1, until_ms - int(time.time() * 1000)) + self._ttl_ms
        await self._call(self._block, [self._block_key(scope)], [until_ms, int(banned), ttl])


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


class Reservation(NamedTuple):
    """The slots one request holds. ``straddles``: charged to two windows (near a boundary), so a
    usage header cannot be matched to one of them. ``watch``: per cost, its usage header and the
    in-memory store's count key in ``window`` (what reconciling reads, built once per window)."""

    slots: tuple[Slot, ...]
    window: int
    straddles: bool
    watch: tuple[tuple[str, tuple[str, int]], ...] = ()


class _Plan:
    """What the limiter keeps per cost tuple: its block scopes and the reservation of the current
    window (shared by every call that does not straddle a boundary), which starts at server time
    ``since`` and ends at ``until`` (ms)."""

    __slots__ = ("current", "scopes", "since", "until")

    def __init__(self, scopes: tuple[str, ...]) -> None:
        self.scopes = scopes
        self.current: Reservation | None = None
        self.since = self.until = 0


def _ms_to_dt(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@attrs.define(repr=False)
class WeightLimiter:
    """Reserves weight before a request and reconciles after it; see the module docstring."""

    now_ms: Callable[[], int]
    store: WindowStore = attrs.field(factory=InMemoryWindowStore)
    limits: Mapping[WeightKind, int] = attrs.field(
        factory=lambda: {
            WeightKind.UID: DEFAULT_UID_WEIGHT_LIMIT,
            WeightKind.IP: DEFAULT_IP_WEIGHT_LIMIT,
            WeightKind.API: DEFAULT_API_WEIGHT_LIMIT,
        }
    )
    window_s: float = DEFAULT_WEIGHT_WINDOW_S
    edge_ms: Callable[[], float] = lambda: 50.0
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic
    # Local mirror for snapshots when the store is not in memory (an in-memory store is read
    # directly): bucket key -> (kind, window, used as last known).
    _seen: dict[str, tuple[WeightKind, int, int]] = attrs.field(init=False, factory=dict)
    _kinds: dict[str, WeightKind] = attrs.field(init=False, factory=dict)  # every bucket used
    _blocked: dict[str, tuple[int, bool]] = attrs.field(init=False, factory=dict)
    _window_ms: int = attrs.field(init=False, default=0)
    _plans: dict[tuple[tuple[WeightKind, str, int], ...], _Plan] = attrs.field(
        init=False, factory=dict
    )

    def __attrs_post_init__(self) -> None:
        if self.window_s <= 0:
            raise ValueError("weight_window_s must be positive")
        self._window_ms = max(1, round(self.window_s * 1000))
        for kind, limit in self.limits.items():
            if limit <= 0:
                raise ValueError(f"{kind.value} weight limit must be positive, got {limit}")

    def __repr__(self) -> str:
        return f"WeightLimiter(window_s={self.window_s}, store={self.store!r})"

    def _plan(self, costs: tuple[tuple[WeightKind, str, int], ...]) -> _Plan:
        """The cached plan for ``costs``, checked against the limits once."""
        plan = self._plans.get(costs)
        if plan is None:
            for kind, _, amount in costs:
                limit = self.limits[kind]
                if amount > limit:
                    raise ValueError(f"request weight {amount} exceeds the {kind.value} limit {limit}")
            plan = _Plan((*dict.fromkeys(kind.value for kind, _, _ in costs), BAN_SCOPE))
            self._kinds.update((key, kind) for kind, key, _ in costs)
            if len(self._plans) < 1024:  # specs give a handful of distinct cost tuples
                self._plans[costs] = plan
        return plan

    def _slots(self, costs: Sequence[tuple[WeightKind, str, int]], now: int, plan: _Plan) -> Reservation:
        wms = self._window_ms
        edge = int(self.edge_ms())
        mid = now // wms
        lo, hi = (now - edge) // wms, (now + edge) // wms
        if lo == hi:
            current = plan.current
            if current is not None and current.window == mid:
                return current  # immutable: every call in a window can share it
            windows: Sequence[int] = (mid,)
        else:
            windows = sorted({lo, mid, hi})
        limits = self.limits
        res = Reservation(
            tuple([Slot(key, w, amount, limits[kind]) for kind, key, amount in costs for w in windows]),
            mid,
            lo != hi,
            tuple([(USAGE_HEADERS[kind], (key, mid)) for kind, key, _ in costs]),
        )
        if lo == hi:
            plan.current = res
            plan.since, plan.until = mid * wms, (mid + 1) * wms
        return res

    def try_acquire(
        self, costs: tuple[tuple[WeightKind, str, int], ...], now_ms: int | None = None
    ) -> Reservation | None:
        """Reserve at once without awaiting, or None (budget full, blocked, or a store that awaits).

        The session's fast path: an in-memory store needs no coroutine for the common case.
        ``now_ms``: this limiter's clock reading, when the caller has just taken one.
        """
        store = self.store
        if type(store) is not InMemoryWindowStore or store._blocks:  # blocks: acquire() waits
            return None
        plan = self._plans.get(costs) or self._plan(costs)  # the hit inline: one call less
        now = self.now_ms() if now_ms is None else now_ms
        res = plan.current
        edge = int(self.edge_ms())
        # Inside the current window and not within ``edge`` of either end: the shared reservation.
        if res is None or not plan.since + edge <= now < plan.until - edge:
            res = self._slots(costs, now, plan)
        slots = res.slots
        if len(slots) != 1:  # several buckets or windows: the store's own check-then-charge
            return res if store.reserve_now(slots, plan.scopes, now).ok else None
        # Most endpoints: one bucket, one window, charged here (same module) without that call.
        key, window, amount, limit = slots[0]
        counts = store._counts
        used = counts.get((key, window), 0) + amount
        if used > limit:
            return None
        counts[key, window] = used
        if window > store._latest_window:
            store._prune(window)
        return res

    async def acquire(
        self, costs: Sequence[tuple[WeightKind, str, int]], max_wait: float
    ) -> Reservation:
        """Reserve every cost, waiting (at most ``max_wait`` seconds) for budget or a block to end."""
        if type(costs) is not tuple:
            costs = tuple(costs)
        plan = self._plan(costs)
        scopes = plan.scopes
        store = self.store
        deadline = self.monotonic() + max_wait
        while True:
            now = self.now_ms()
            res = self._slots(costs, now, plan)
            if type(store) is InMemoryWindowStore:  # nothing to await: skip a coroutine per call
                result = store.reserve_now(res.slots, scopes, now)
            else:
                result = await store.reserve(res.slots, scopes, now)
            if result.ok:
                if type(store) is not InMemoryWindowStore:
                    self._note(costs, res)
                return res
            if result.blocked_until_ms:
                wake = result.blocked_until_ms
            else:
                wake = (now // self._window_ms + 1) * self._window_ms + int(self.edge_ms())
            wait = max(0.0, (wake - now) / 1000)
            if self.monotonic() + wait > deadline:
                raise RateLimitError(
                    "weight budget not available within max_wait"
                    if not result.blocked_until_ms
                    else "Retry-After/ban in force",
                    retry_after=wait,
                    banned=result.banned,
                )
            log.debug(
                "waiting %.3fs for weight (%s)",
                wait,
                "banned" if result.banned else "blocked" if result.blocked_until_ms else "window full",
            )
            await self.sleep(wait)

    def _note(self, costs: Sequence[tuple[WeightKind, str, int]], res: Reservation) -> None:
        seen = self._seen
        for kind, key, amount in costs:
            window = res.window
            prev = seen.get(key)
            used = prev[2] + amount if prev is not None and prev[1] == window else amount
            seen[key] = (kind, window, used)

    async def release(self, res: Reservation) -> None:
        """Give back a reservation whose request never left (failed to connect, cancelled)."""
        await self.store.release(res.slots)
        if type(self.store) is InMemoryWindowStore:
            return
        for s in res.slots:
            prev = self._seen.get(s.key)
            if prev is not None and prev[1] == s.window == res.window:
                self._seen[s.key] = (prev[0], s.window, max(0, prev[2] - s.amount))

    async def reconcile(
        self,
        costs: Sequence[tuple[WeightKind, str, int]],
        res: Reservation,
        headers: Mapping[str, str],
    ) -> None:
        """Raise each bucket to the server's count, when we know which window the header means."""
        pending = self.reconcile_now(costs, res, headers)
        if pending is not None:
            await pending

    def reconcile_now(
        self,
        costs: Sequence[tuple[WeightKind, str, int]],
        res: Reservation,
        headers: Mapping[str, str],
    ) -> Awaitable[None] | None:
        """:meth:`reconcile` without a coroutine when nothing must be awaited; otherwise returns
        what to await (a store that is not in memory learning a higher count)."""
        if res.straddles:
            return None
        store = self.store
        if type(store) is InMemoryWindowStore:  # the common case: no mirror, no coroutine
            counts = store._counts
            for header, count_key in res.watch:
                raw = headers.get(header)
                if raw is not None:
                    try:
                        used = int(raw)
                    except ValueError:
                        continue
                    if used > counts.get(count_key, 0):
                        counts[count_key] = used
            return None
        window = res.window
        observed: list[tuple[str, int]] = []  # for a store that awaits; usually stays empty
        for kind, key, _ in costs:
            raw = headers.get(USAGE_HEADERS[kind])
            if raw is None:
                continue
            try:
                used = int(raw)
            except ValueError:
                continue
            prev = self._seen.get(key)
            if prev is not None and (prev[1] > window or (prev[1] == window and prev[2] >= used)):
                continue  # nothing new: the server saw no more than we already count
            self._seen[key] = (kind, window, used)
            observed.append((key, used))
        return self._observe_all(window, observed) if observed else None

    async def _observe_all(self, window: int, observed: list[tuple[str, int]]) -> None:
        for key, used in observed:
            await self.store.observe(key, window, used)

    async def block(self, kind: WeightKind | None, retry_after: float, *, banned: bool) -> None:
        """Stop requests of ``kind`` (all requests if ``banned``) for ``retry_after`` seconds."""
        until = self.now_ms() + int(retry_after * 1000)
        scope = BAN_SCOPE if banned or kind is None else kind.value
        prev = self._blocked.get(scope)
        if prev is None or until > prev[0]:
            self._blocked[scope] = (until, banned)
        log.warning(
            "%s: no %s requests for %.1fs",
            "IP banned (418)" if banned else "rate limited (429)",
            "" if scope == BAN_SCOPE else scope,
            retry_after,
        )
        await self.store.block(scope, until, banned)

    def window_remaining(self) -> float:
        """Seconds until the current window rolls (a 429 without Retry-After waits this long)."""
        now = self.now_ms()
        return ((now // self._window_ms + 1) * self._window_ms - now) / 1000

    def snapshot(self) -> WeightsSnapshot:
        now = self.now_ms()
        current = now // self._window_ms
        store = self.store
        if type(store) is InMemoryWindowStore:
            books = {key: (kind, current, store.used(key, current)) for key, kind in self._kinds.items()}
        else:
            books = self._seen
        buckets = tuple(
            WeightUsage(
                key=key,
                kind=kind,
                used=used if window == current else 0,
                limit=self.limits[kind],
                resets_at=_ms_to_dt((current + 1) * self._window_ms),
            )
            for key, (kind, window, used) in sorted(books.items())
        )
        blocked = {s: _ms_to_dt(u) for s, (u, _) in self._blocked.items() if u > now}
        banned = any(b and u > now for u, b in self._blocked.values())
        return WeightsSnapshot(buckets, blocked, banned)
