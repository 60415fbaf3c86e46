"""Profile one client's pmLoan calls against the simulator (in its own process) with cProfile.

    python benchmarks/profile_hot_path.py [--client binance_pm] [--calls 20000] [--concurrency 50]
                                          [--sort tottime] [--limit 40]

Prints the top functions of the measured phase, and the CPU µs per call without the profiler.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time

import _clients
from run import _drive, _simulator


async def _measure(client: str, base: str, calls: int, concurrency: int, profile: bool) -> float:
    call, close = await _clients.ASYNC_CLIENTS[client](base)
    try:
        await _drive(call, max(200, concurrency), concurrency, None)
        profiler = cProfile.Profile() if profile else None
        start = time.process_time()
        if profiler is not None:
            profiler.enable()
        await _drive(call, calls, concurrency, None)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats("benchmarks/out/profile.pstats")
        return (time.process_time() - start) / calls * 1e6
    finally:
        await close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--client", default="binance_pm", choices=list(_clients.ASYNC_CLIENTS))
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true", help="only the CPU µs per call")
    args = parser.parse_args()
    _clients.install_network_guard()
    with _simulator() as (base, _):
        plain = asyncio.run(_measure(args.client, base, args.calls, args.concurrency, False))
        print(f"{args.client}: {plain:.1f} µs CPU per call (no profiler)")
        if not args.no_profile:
            asyncio.run(_measure(args.client, base, args.calls, args.concurrency, True))
            stats = pstats.Stats("benchmarks/out/profile.pstats", stream=sys.stdout)
            stats.sort_stats(args.sort).print_stats(args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
