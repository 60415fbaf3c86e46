"""Event latency of the user data stream: from the simulator sending a frame to the caller having it.

    python benchmarks/stream_latency.py            # prints a Markdown table
    python benchmarks/stream_latency.py --quick    # fewer frames, for a smoke run

The simulator (``FakeBinance``) runs in its own process on 127.0.0.1 and stamps each frame with
``time.perf_counter_ns()`` (CLOCK_MONOTONIC on Linux, shared by all processes) just before sending
it. Two phases per run: frames ``CADENCE_S`` apart (Binance's 5-second account update, shortened:
each frame is handled alone), then a burst of ``BURST`` frames sent back to back (latency then
includes the queue behind each frame). The clients, each in a fresh server process:

- **floor**: a bare ``aiohttp`` websocket on the same URL: ``receive()`` and ``json.loads``.
- **binance_pm**: ``client.user_stream()``: the reader task, watchdog bookkeeping, the whole-frame
  rotation check, the ``AccountUpdate`` model with ``Decimal`` amounts, and the queue to the caller.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

CADENCE_S = 0.02
FULL = {"cadence": 300, "burst": 1000}
QUICK = {"cadence": 50, "burst": 200}


def _frame(phase: str, n: int) -> dict[str, Any]:
    return {"e": "PM_PRO_ACCOUNT_UPDATE", "E": int(time.time() * 1000), "u": "1.29",
            "eq": "12000.5", "ae": "11800.25", "im": "4000", "mm": "930.5", "avb": "8000.5",
            "vmw": "7500", "p": phase, "n": n, "t": time.perf_counter_ns()}


async def serve(cadence: int, burst: int) -> None:
    """The server process: wait for one connection, send both phases, then an end marker."""
    from binance_pm.testing import FakeBinance

    async with FakeBinance(record=False) as sim:
        sim.stream.cadence = None
        sim.stream.ping_interval = None
        print(sim.port, flush=True)
        for _ in range(3000):  # until the client is connected
            if sim.stream.open_connections:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        for n in range(cadence):
            await sim.stream.push(json.dumps(_frame("cadence", n)))
            await asyncio.sleep(CADENCE_S)
        await asyncio.sleep(0.3)
        for n in range(burst):
            await sim.stream.push(json.dumps(_frame("burst", n)))
        await sim.stream.push({"e": "benchEnd", "E": 0})
        for _ in range(500):  # until the client hangs up
            if sim.stream.open_connections == 0:
                break
            await asyncio.sleep(0.01)


Samples = dict[str, list[int]]


def _record(samples: Samples, data: Any, now: int) -> None:
    samples.setdefault(data["p"], []).append(now - data["t"])


async def floor(port: int) -> Samples:
    from binance_pm.testing import TEST_API_KEY

    samples: Samples = {}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{port}/fapi/v1/listenKey",
                             headers={"X-MBX-APIKEY": TEST_API_KEY}) as resp:
            key = (await resp.json())["listenKey"]
        async with http.ws_connect(f"ws://127.0.0.1:{port}/pm-classic/ws/{key}") as ws:
            while True:
                msg = await ws.receive()
                now = time.perf_counter_ns()
                data = json.loads(msg.data)
                if data["e"] == "benchEnd":
                    return samples
                _record(samples, data, now)


async def binance_pm(port: int) -> Samples:
    from binance_pm import Client, UnknownEvent
    from binance_pm.testing import TEST_API_KEY, TEST_API_SECRET

    samples: Samples = {}
    base = f"http://127.0.0.1:{port}"
    client = Client(api_key=TEST_API_KEY, api_secret=TEST_API_SECRET, base_url=base,
                    futures_url=base, stream_url=f"ws://127.0.0.1:{port}")
    async with client, client.user_stream(heartbeat_timeout=30.0) as stream:
        async for event in stream:
            now = time.perf_counter_ns()
            if isinstance(event, UnknownEvent):
                return samples
            _record(samples, event.raw, now)
    return samples


async def run_one(client: Callable[[int], Awaitable[Samples]], sizes: dict[str, int]) -> Samples:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", str(sizes["cadence"]), str(sizes["burst"]),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    port = int(await proc.stdout.readline())
    try:
        return await asyncio.wait_for(client(port), 120)
    finally:
        await proc.wait()


def _pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] / 1000  # µs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(*args.serve))
        return
    sizes = QUICK if args.quick else FULL
    started = time.time()
    results = {name: asyncio.run(run_one(fn, sizes)) for name, fn in
               (("floor", floor), ("binance_pm", binance_pm))}
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    print(f"`python benchmarks/stream_latency.py`, {stamp} ({time.time() - started:.0f} s): "
          f"{sizes['cadence']} frames {CADENCE_S * 1000:g} ms apart, then a burst of "
          f"{sizes['burst']}; microseconds from the simulator's send to the caller's loop.\n")
    print("| client | phase | frames | p50 µs | p99 µs | max µs | p50 x floor | p99 x floor |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for phase in ("cadence", "burst"):
        base = results["floor"][phase]
        for name, samples in results.items():
            vals = samples[phase]
            p50, p99 = _pct(vals, 0.5), _pct(vals, 0.99)
            print(f"| {name} | {phase} | {len(vals):,} | {p50:,.0f} | {p99:,.0f} | "
                  f"{max(vals) / 1000:,.0f} | {p50 / _pct(base, 0.5):.2f}x | "
                  f"{p99 / _pct(base, 0.99):.2f}x |")
    print("\nmedian of all frames: " + ", ".join(
        f"{name} {statistics.median(v for vs in s.values() for v in vs) / 1000:,.0f} µs"
        for name, s in results.items()))


if __name__ == "__main__":
    main()
