"""One process of the shared-budget test: 50 concurrent pm_loan callers on a Redis window store.

Run as ``python -m tests.redis_worker BASE_URL REDIS_URL PREFIX CALLS CONCURRENCY LIMIT WINDOW
[START_AT]``;
prints one JSON line of outcome counts.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

from redis.asyncio import Redis

from binance_pm import BinanceError, Client
from binance_pm.limits import RedisWindowStore
from binance_pm.testing import TEST_API_KEY, TEST_API_SECRET


async def main(base_url: str, redis_url: str, prefix: str, calls: int, concurrency: int,
               limit: int, window: float, start_at: float | None = None) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    redis = Redis.from_url(redis_url)
    try:
        async with Client(
            api_key=TEST_API_KEY, api_secret=TEST_API_SECRET, base_url=base_url,
            uid_weight_limit=limit, weight_window_s=window, max_wait=120,
            limiter_store=RedisWindowStore(redis, prefix=prefix),
        ) as client:
            # Connect to Redis and sync the server clock (a signed call of another bucket) before
            # the start, so the burst's first window is not spent on set-up (on a loaded machine
            # that took half of it).
            await redis.ping()
            await client.account.delta_mode()
            # Start 15% into a window (the simulator keeps wall time): a burst begun within the
            # edge margin of a boundary is charged to both windows by design, wasting the next.
            # With start_at every process starts at that one instant: on a loaded machine
            # processes spawn up to seconds apart, and one that began a window early left it
            # part-used.
            if start_at is not None:
                await asyncio.sleep(max(0.0, start_at - time.time()))
            else:
                await asyncio.sleep((window * 1.15 - time.time() % window) % window)
            gate = asyncio.Semaphore(concurrency)

            async def one() -> None:
                async with gate:
                    try:
                        await client.account.pm_loan()
                        outcomes["ok"] += 1
                    except BinanceError as err:
                        outcomes[type(err).__name__] += 1

            await asyncio.gather(*(one() for _ in range(calls)))
    finally:
        await redis.aclose()
    return outcomes


if __name__ == "__main__":
    base, url, prefix, n, conc, lim, win = sys.argv[1:8]
    start = float(sys.argv[8]) if len(sys.argv) > 8 else None
    result = asyncio.run(main(base, url, prefix, int(n), int(conc), int(lim), float(win), start))
    print(json.dumps(result))
