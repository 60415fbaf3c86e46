"""What weight accounting costs per request: no-op store vs in-memory vs Redis.

    python benchmarks/limiter.py [--calls 3000] [--concurrency 50] [--redis-url URL]

The simulator runs in its own process (limits far above the load), so the CPU time measured here
is the client's alone. Prints CPU microseconds per pm_loan() for each store and the ratio to the
no-op store (limiter code runs, but every reservation succeeds without bookkeeping), plus a
micro-benchmark of one reserve+reconcile without any network.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from binance_pm import Client
from binance_pm._limiter import Charge, Reservation, WeightLimiter
from binance_pm._pools import Pool
from binance_pm.limits import (
    InMemoryWindowStore,
    RedisWindowStore,
    ReserveResult,
    Slot,
    WeightKind,
    WindowStore,
)
from binance_pm.testing import TEST_API_KEY, TEST_API_SECRET

HERE = Path(__file__).resolve().parent
HUGE = 10**12


class NoopStore:
    """Accepts every reservation and keeps no books: the baseline."""

    def reserve(self, slots: Sequence[Slot], scopes: Sequence[str], now_ms: int) -> ReserveResult:
        return ReserveResult(True)

    def release(self, slots: Sequence[Slot]) -> None:
        return None

    def observe(self, key: str, window: int, used: int) -> None:
        return None

    def block(self, scope: str, until_ms: int, banned: bool, now_ms: int) -> None:
        return None

    def used(self, key: str, window: int) -> int:
        return 0


def _start_sim() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, str(HERE / "_sim.py")], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


async def _cpu_per_call(base_url: str, store: WindowStore, calls: int, concurrency: int) -> float:
    async with Client(api_key=TEST_API_KEY, api_secret=TEST_API_SECRET, base_url=base_url,
                      uid_weight_limit=HUGE, ip_weight_limit=HUGE, limiter_store=store) as client:
        await client.account.pm_loan()  # warm: clock sync, connections
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                await client.account.pm_loan()

        start = time.process_time()
        await asyncio.gather(*(one() for _ in range(calls)))
        return (time.process_time() - start) / calls * 1e6


async def _micro(store: WindowStore, n: int) -> float:
    now = [1_000_000]
    limiter = WeightLimiter(now_ms=lambda: now[0], store=store, edge_ms=lambda: 50.0)
    pool = Pool("sapi", WeightKind.UID, HUGE, "X-SAPI-USED-UID-WEIGHT-1M", True, 60_000)
    charge = Charge(pool, "UID:/sapi/v1/portfolio/pmLoan", 500)
    headers = {"X-SAPI-USED-UID-WEIGHT-1M": "500"}
    start = time.process_time()
    for _ in range(n):
        res = limiter.reserve(charge, (charge.key,), now[0])
        if not isinstance(res, Reservation):
            res = await res  # type: ignore[misc]
        assert isinstance(res, Reservation)
        settling = limiter.settle(res, headers)
        if settling is not None:
            await settling
    return (time.process_time() - start) / n * 1e6


def _redis_url(given: str | None) -> tuple[str | None, subprocess.Popen[bytes] | None]:
    url = given or os.environ.get("BINANCE_PM_TEST_REDIS_URL")
    if url:
        return url, None
    exe = shutil.which("redis-server")
    if exe is None:
        return None, None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                            stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    return f"redis://127.0.0.1:{port}/0", proc


async def main(args: argparse.Namespace) -> None:
    sim, base_url = _start_sim()
    redis_url, redis_proc = _redis_url(args.redis_url)
    redis: Any = None
    try:
        stores: dict[str, WindowStore] = {"no-op": NoopStore(), "in-memory": InMemoryWindowStore()}
        if redis_url is not None:
            from redis.asyncio import Redis

            redis = Redis.from_url(redis_url)
            stores["redis"] = RedisWindowStore(redis, prefix=f"bench-{os.getpid()}")
        results: dict[str, list[float]] = {name: [] for name in stores}
        for _ in range(args.repeat):  # alternate the order so drift hits every store alike
            for name, store in stores.items():
                results[name].append(
                    await _cpu_per_call(base_url, store, args.calls, args.concurrency))
        micro = {name: await _micro(store, 20_000 if name != "redis" else 2000)
                 for name, store in stores.items()}
    finally:
        if redis is not None:
            await redis.aclose()
        sim.terminate()
        sim.wait()
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait()
    base = sorted(results["no-op"])[len(results["no-op"]) // 2]
    print(f"pm_loan() through the whole stack, {args.calls} calls at concurrency "
          f"{args.concurrency}, median of {args.repeat} (client CPU only):")
    print(f"{'store':<10} {'CPU us/call':>12} {'vs no-op':>9} {'limiter alone us':>17}")
    for name, values in results.items():
        med = sorted(values)[len(values) // 2]
        print(f"{name:<10} {med:>12.1f} {med / base:>8.3f}x {micro[name]:>17.2f}")
    if redis_url is None:
        print("redis: skipped (no redis-server and no --redis-url)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis-url")
    asyncio.run(main(parser.parse_args()))
