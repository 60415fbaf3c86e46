"""Cold start: round trips from creating a client to the first pmLoan result, on a slow link.

    python benchmarks/cold_start.py [--rtt-ms 50] [--reps 5] [--no-write]

The simulator (in this process, on 127.0.0.1) holds every answer for ``--rtt-ms`` before it
replies, as a link with that round trip would; connection set-up is not delayed. For each client
the figure is the wall time from creating the client to its first result, divided by the round
trip (median of ``--reps`` fresh clients). A bare hand-signed request needs one; a client that
must learn Binance's clock first needs at least two. Written to its section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import _clients

from binance_pm.testing import FakeBinance, Fault

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
BEGIN, END = "<!-- cold-start:begin -->", "<!-- cold-start:end -->"
CLIENTS = ("floor", "binance_pm", "python-binance")


async def _one(client: str, rtt: float) -> float:
    async with FakeBinance(record=False) as sim:
        sim.inject(Fault.latency(rtt, times=None))
        started = time.perf_counter()
        call, close = await _clients.ASYNC_CLIENTS[client](sim.base_url)
        try:
            await call()
            return (time.perf_counter() - started) / rtt
        finally:
            await close()


def _write(table: str) -> None:
    text = RESULTS_MD.read_text(encoding="utf-8")
    block = f"{BEGIN}\n\n{table}\n{END}"
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Cold start (`cold_start.py`)\n\n" + block + "\n"
    RESULTS_MD.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtt-ms", type=float, default=50.0)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    _clients.install_network_guard()
    rtt = args.rtt_ms / 1000
    rows = []
    for client in CLIENTS:
        trips = [asyncio.run(_one(client, rtt)) for _ in range(args.reps)]
        rows.append(f"| {client} | {statistics.median(trips):.2f} | {min(trips):.2f}-{max(trips):.2f} |")
        print(rows[-1])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    table = (
        f"`python benchmarks/cold_start.py`, {stamp}: round trips ({args.rtt_ms:g} ms each, held "
        f"by the simulator) from creating the client to the first `pmLoan` result, median of "
        f"{args.reps}.\n\n| client | round trips | min-max |\n|---|---:|---:|\n" + "\n".join(rows) + "\n"
    )
    if not args.no_write:
        _write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
