"""Run the simulator in its own process for benchmarks: prints its base URL, serves until killed."""

from __future__ import annotations

import asyncio
import sys

from binance_pm.testing import FakeBinance

HUGE = 10**12  # limits far above any benchmark load: we measure accounting, not waiting


async def serve() -> None:
    async with FakeBinance(record=False, uid_weight_limit=HUGE, ip_weight_limit=HUGE,
                           api_weight_limit=HUGE) as sim:
        print(sim.base_url, flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)
