"""RedisWindowStore: the limiter's books in Redis, shared by every process and host on an account."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._errors import TransportError
from ._stores import ReserveResult, Slot

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisWindowStore"]

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

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "binance_pm",
        ttl_ms: int = 180_000,
        op_timeout: float = 2.0,
    ) -> None:
        if not op_timeout > 0:
            raise ValueError(f"op_timeout must be positive, got {op_timeout!r}")
        self._redis = redis
        self._op_timeout = op_timeout
        self._prefix = prefix
        self._ttl_ms = ttl_ms
        self._reserve = redis.register_script(_RESERVE_LUA)
        self._release = redis.register_script(_RELEASE_LUA)
        self._observe = redis.register_script(_OBSERVE_LUA)
        self._block = redis.register_script(_BLOCK_LUA)
        # Never ask for more connections than the pool has: redis-py fails fast, it doesn't queue.
        pool_max = getattr(redis.connection_pool, "max_connections", 0) or 50
        self._gate = asyncio.Semaphore(max(1, min(int(pool_max), 50)))
        # What this process last learned of each bucket, for used(): Redis itself is a round trip.
        self._seen: dict[str, tuple[int, int]] = {}

    async def _call(self, script: Any, keys: list[str], args: list[int]) -> Any:
        from redis.exceptions import RedisError

        try:
            # A frozen server (process stopped, socket open) never answers: bound every operation.
            async with asyncio.timeout(self._op_timeout):
                async with self._gate:
                    return await script(keys=keys, args=args)
        except (RedisError, OSError) as err:
            raise TransportError(f"rate-limit store (Redis) failed: {type(err).__name__}") from None
        except TimeoutError:
            raise TransportError(
                f"rate-limit store (Redis) gave no answer within {self._op_timeout:g}s"
            ) from None

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
        if ok:
            for s in slots:
                self._note(s.key, s.window, self.used(s.key, s.window) + s.amount)
        return ReserveResult(bool(ok), int(until), bool(banned))

    async def release(self, slots: Sequence[Slot]) -> None:
        for s in slots:
            self._note(s.key, s.window, max(0, self.used(s.key, s.window) - s.amount))
        await self._call(
            self._release,
            [self._count_key(s.key, s.window) for s in slots],
            [s.amount for s in slots],
        )

    async def observe(self, key: str, window: int, used: int) -> None:
        await self._call(self._observe, [self._count_key(key, window)], [used, self._ttl_ms])
        self._note(key, window, max(used, self.used(key, window)))

    def used(self, key: str, window: int) -> int:
        seen = self._seen.get(key)
        return seen[1] if seen is not None and seen[0] == window else 0

    def _note(self, key: str, window: int, used: int) -> None:
        seen = self._seen.get(key)
        if seen is None or window >= seen[0]:
            self._seen[key] = (window, used)

    async def block(self, scope: str, until_ms: int, banned: bool, now_ms: int) -> None:
        ttl = max(1, until_ms - now_ms) + self._ttl_ms
        await self._call(self._block, [self._block_key(scope)], [until_ms, int(banned), ttl])
