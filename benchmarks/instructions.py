"""Instructions per pmLoan call, counted by valgrind: a figure the shared machine cannot blur.

    python benchmarks/instructions.py [--clients floor,binance_pm,...] [--concurrency 1,50]
                                      [--calls 300,1500] [--no-write]

CPU time on a shared 2-core machine moves by 10-30% between runs; instruction counts do not
(repeat runs agree within about 0.5%). Each client runs in its own process under
``valgrind --tool=callgrind`` against the simulator (its own process, not under valgrind), once
with N0 and once with N1 measured calls after the same warm-up; (Ir(N1) - Ir(N0)) / (N1 - N0)
is the instructions per call with start-up, imports, warm-up and close cancelled out.
Instructions are not time (cache misses and branch mispredictions differ), so this complements
the CPU figures of ``run.py``; it does not replace them. Needs Debian's ``valgrind``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import _clients
from run import (
    INSTR_BEGIN,
    INSTR_END,
    INSTR_HEADING,
    _client_names,
    _drive,
    _drive_threads,
    _simulator,
    replace_section,
)

WARMUP = 200
ERRORS_TAG = "CALL-ERRORS"
_REFS = re.compile(r"Collected\s*:\s*(\d+)")
_ERRORS = re.compile(ERRORS_TAG + r" (\d+) (.*)")


async def _worker(client: str, base: str, calls: int, concurrency: int) -> None:
    _clients.install_network_guard()
    if client in _clients.SYNC_CLIENTS:
        call, close = _clients.SYNC_CLIENTS[client](base, concurrency)
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            _drive_threads(call, WARMUP, pool, concurrency, None)
            errors, first = _drive_threads(call, calls, pool, concurrency, None)
        close()
    else:
        acall, aclose = await _clients.ASYNC_CLIENTS[client](base)
        try:
            await _drive(acall, WARMUP, concurrency, None)
            errors, first = await _drive(acall, calls, concurrency, None)
        finally:
            await aclose()
    if _clients.BLOCKED:
        sys.exit(f"{client} tried to reach {_clients.BLOCKED}")
    if errors:  # counted, not fatal: under valgrind a slow client can see -1021 (it is 50x slower)
        print(f"{ERRORS_TAG} {errors} {first}", file=sys.stderr)


def _count(client: str, base: str, calls: int, concurrency: int) -> tuple[int, int, str]:
    """(instructions, failed calls, first failure) of one valgrind run."""
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           sys.executable, __file__, "--worker", client, "--base", base,
           "--n", str(calls), "--concurrency", str(concurrency)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    found = _REFS.search(proc.stderr)
    if proc.returncode != 0 or found is None:
        own = [line for line in proc.stderr.splitlines() if line and not line.startswith("==")]
        raise RuntimeError(f"exit {proc.returncode}: {' | '.join(own[-3:]) or 'no message'}")
    failed = _ERRORS.search(proc.stderr)
    if failed is None:
        return int(found.group(1)), 0, ""
    return int(found.group(1)), int(failed.group(1)), failed.group(2)[:120]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default=",".join(_client_names()))
    parser.add_argument("--concurrency", default="1,50")
    parser.add_argument("--calls", default="300,1500", help="N0,N1 measured calls")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    if args.worker:
        asyncio.run(_worker(args.worker, args.base, args.n, concurrencies[0]))
        return 0
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed: apt-get install -y valgrind")
    n0, n1 = (int(n) for n in args.calls.split(","))
    clients = args.clients.split(",")
    started = time.monotonic()
    per_call: dict[tuple[str, int], float | str] = {}
    failures: list[str] = []
    with _simulator() as (base, _):
        for conc in concurrencies:
            for client in clients:
                try:
                    (low, e0, why0), (high, e1, why1) = (_count(client, base, n0, conc),
                                                         _count(client, base, n1, conc))
                    per_call[client, conc] = (high - low) / (n1 - n0)
                    if e0 or e1:
                        failures.append(f"{client} at concurrency {conc}: {e0} + {e1} of "
                                        f"{n0 + n1:,} calls failed under valgrind ({why0 or why1})")
                except (RuntimeError, subprocess.TimeoutExpired) as err:
                    per_call[client, conc] = str(err)[:200]
                print(f"c={conc:<4} {client:<15} {_cell(per_call[client, conc], None)}", flush=True)
    lines = _section(per_call, clients, concurrencies, n0, n1, time.monotonic() - started, failures)
    print("\n".join(lines))
    if not args.no_write:
        replace_section("\n".join(lines), INSTR_BEGIN, INSTR_END, INSTR_HEADING)
        print("wrote benchmarks/RESULTS.md")
    return 0


def _cell(value: float | str, floor: float | str | None) -> str:
    if isinstance(value, str):
        return f"failed: {value}"
    if isinstance(floor, float):
        return f"{value / 1000:,.1f} k ({value / floor:.3f}x)"
    return f"{value / 1000:,.1f} k"


def _section(per_call: dict[tuple[str, int], float | str], clients: list[str],
             concurrencies: list[int], n0: int, n1: int, elapsed: float,
             failures: list[str]) -> list[str]:
    lines = [
        INSTR_BEGIN, "",
        f"`python benchmarks/instructions.py`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"({elapsed:.0f} s): instructions per call (thousands; x floor), from valgrind runs of "
        f"{n0:,} and {n1:,} calls after {WARMUP} warm-up calls. The official SDK's count covers "
        "its thread pool too.",
        "",
        "| client | " + " | ".join(f"conc. {c}" for c in concurrencies) + " |",
        "|---|" + "---:|" * len(concurrencies),
    ]
    for client in clients:
        cells = [_cell(per_call[client, c], per_call.get(("floor", c))) for c in concurrencies]
        lines.append(f"| {client} | " + " | ".join(cells) + " |")
    notes = ["", *(f"- {f} (a failed call still costs instructions; the count stands)."
                   for f in failures)] if failures else []
    return [*lines, *notes, "", INSTR_END]


if __name__ == "__main__":
    sys.exit(main())
