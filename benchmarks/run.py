"""binance_pm against the floor and its peers: CPU, throughput, latency and memory per pmLoan call.

    python benchmarks/run.py            # full run: 5 repetitions, writes benchmarks/RESULTS.md + PNG
    python benchmarks/run.py --quick    # under a minute: 2 repetitions, fewer calls
    python benchmarks/run.py --long     # memory and scale: 100,000 calls, RSS start/end, connections

Needs the ``bench`` extra (``pip install -e '.[bench]'``, best in its own venv). The simulator
(``FakeBinance``, ``record=False``, weight limits far above the load) runs in its own process; each
(client, concurrency, repetition) runs in a fresh process of its own, one at a time, and the
order of the clients rotates between repetitions. Figures are medians over the repetitions:

- CPU ms per request: ``time.process_time()`` of the client process over the measured phase
  (after a warm-up that opens connections and syncs clocks), divided by the number of calls;
- requests per second and p50/p99 latency over the same phase (wall clock);
- peak RSS of the client process (``ru_maxrss``), and the most TCP connections it held to the
  simulator (counted right after the measured phase, and sampled from outside every 0.25 s).

All traffic goes to 127.0.0.1: each client is configured for the simulator, and a guard in every
client process refuses (and reports) any lookup or connection to another host.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS_MD = HERE / "RESULTS.md"
CHART = HERE / "cpu_per_request.png"
OUT = HERE / "out"
LONG_BEGIN = "<!-- long-run:begin -->"
LONG_END = "<!-- long-run:end -->"
LONG_HEADING = "## Memory and scale (`--long`)"
INSTR_BEGIN = "<!-- instructions:begin -->"
INSTR_END = "<!-- instructions:end -->"
INSTR_HEADING = "## Instructions per call (`instructions.py`, noise-free)"
STREAM_BEGIN = "<!-- stream-latency:begin -->"  # written by hand from stream_latency.py's output
STREAM_END = "<!-- stream-latency:end -->"
STREAM_HEADING = "## User data stream: event latency (`stream_latency.py`)"
COLD_BEGIN = "<!-- cold-start:begin -->"  # written by cold_start.py
COLD_END = "<!-- cold-start:end -->"
COLD_HEADING = "## Cold start (`cold_start.py`)"
NOTES_BEGIN = "<!-- notes:begin -->"  # decisions and figures written by hand
NOTES_END = "<!-- notes:end -->"
NOTES_HEADING = "## Tricks kept and reverted, and where the CPU goes"
# Sections other scripts (or people) write, kept as they stand when this script rewrites the file.
KEPT_SECTIONS = (
    (LONG_HEADING, LONG_BEGIN, LONG_END, "Not run yet: `python benchmarks/run.py --long`."),
    (INSTR_HEADING, INSTR_BEGIN, INSTR_END, "Not run yet: `python benchmarks/instructions.py`."),
    (STREAM_HEADING, STREAM_BEGIN, STREAM_END,
     "Not run yet: `python benchmarks/stream_latency.py`."),
    (COLD_HEADING, COLD_BEGIN, COLD_END, "Not run yet: `python benchmarks/cold_start.py`."),
    (NOTES_HEADING, NOTES_BEGIN, NOTES_END, "None yet."),
)

FULL = {"reps": 5, "calls": {1: 3000, 50: 10000, 500: 10000}}
QUICK = {"reps": 2, "calls": {1: 300, 50: 1500, 500: 2000}}
LONG_CALLS = 100_000
LONG_CONCURRENCY = 500
WORKER_TIMEOUT_S = 600.0


@dataclass
class Cell:
    """One client at one concurrency in one repetition, as its worker process reported it."""

    client: str
    concurrency: int
    rep: int
    calls: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    rss_mib: float = 0.0
    errors: int = 0
    blocked: list[str] = field(default_factory=list)
    max_conns: int = 0
    failure: str = ""

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s / self.calls * 1000 if self.calls else float("nan")

    @property
    def rps(self) -> float:
        return self.calls / self.wall_s if self.wall_s else float("nan")


# -- the simulator process ----------------------------------------------------------------------


async def _serve() -> None:
    from binance_pm.testing import FakeBinance

    huge = 10**12
    async with FakeBinance(record=False, uid_weight_limit=huge, ip_weight_limit=huge,
                           api_weight_limit=huge) as sim:
        print(sim.base_url, flush=True)
        await asyncio.Event().wait()


# -- a client process ---------------------------------------------------------------------------


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _held_connections(port: int) -> int:
    """Established TCP connections this process holds to the simulator (its pool, kept alive)."""
    import psutil

    return sum(1 for c in psutil.Process().net_connections(kind="tcp")
               if c.raddr and c.raddr.port == port and c.status == "ESTABLISHED")


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def _drive(call: Callable[[], Awaitable[Any]], calls: int, concurrency: int,
                 latencies: list[float] | None,
                 progress: Callable[[int], None] | None = None) -> tuple[int, str]:
    """``calls`` calls from ``concurrency`` tasks sharing one counter; returns (errors, first)."""
    counter = iter(range(calls))
    errors = [0, ""]
    clock = time.perf_counter

    async def worker() -> None:
        for i in counter:
            start = clock()
            try:
                await call()
            except Exception as err:
                errors[0] = int(errors[0]) + 1
                errors[1] = errors[1] or f"{type(err).__name__}: {err}"[:300]
            if latencies is not None:
                latencies.append(clock() - start)
            if progress is not None:
                progress(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return int(errors[0]), str(errors[1])


def _drive_threads(call: Callable[[], Any], calls: int, pool: ThreadPoolExecutor, threads: int,
                   latencies: list[float] | None) -> tuple[int, str]:
    counter = iter(range(calls))
    lock = threading.Lock()
    errors: list[Any] = [0, ""]
    clock = time.perf_counter

    def worker() -> None:
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            start = clock()
            try:
                call()
            except Exception as err:
                with lock:
                    errors[0] += 1
                    errors[1] = errors[1] or f"{type(err).__name__}: {err}"[:300]
            if latencies is not None:
                latencies.append(clock() - start)

    for future in [pool.submit(worker) for _ in range(threads)]:
        future.result()
    return int(errors[0]), str(errors[1])


async def _worker(client: str, base: str, concurrency: int, calls: int, warmup: int) -> dict[str, Any]:
    import _clients

    _clients.install_network_guard()
    port = int(base.rsplit(":", 1)[1])
    latencies: list[float] = []
    report: dict[str, Any] = {"calls": calls}
    if client in _clients.SYNC_CLIENTS:
        sync_call, sync_close = _clients.SYNC_CLIENTS[client](base, concurrency)
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            _clients._check(pool.submit(sync_call).result())
            _drive_threads(sync_call, warmup, pool, concurrency, None)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            errors, first = _drive_threads(sync_call, calls, pool, concurrency, latencies)
            cpu1, wall1 = time.process_time(), time.perf_counter()
            held = _held_connections(port)
        sync_close()
    else:
        call, close = await _clients.ASYNC_CLIENTS[client](base)
        try:
            _clients._check(await call())
            await _drive(call, warmup, concurrency, None)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            errors, first = await _drive(call, calls, concurrency, latencies)
            cpu1, wall1 = time.process_time(), time.perf_counter()
            held = _held_connections(port)
        finally:
            await close()
    latencies.sort()
    report.update(
        cpu_s=cpu1 - cpu0, wall_s=wall1 - wall0, errors=errors, first_error=first,
        p50_ms=_percentile(latencies, 0.50) * 1000, p99_ms=_percentile(latencies, 0.99) * 1000,
        rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        blocked=sorted(set(_clients.BLOCKED)), held_conns=held,
    )
    return report


async def _long_worker(client: str, base: str, concurrency: int, calls: int) -> dict[str, Any]:
    """Memory over a long run: RSS after the warm-up, every 10% of the calls, and at the end."""
    import _clients

    _clients.install_network_guard()
    call, close = await _clients.ASYNC_CLIENTS[client](base)
    samples: list[tuple[int, float]] = []
    step = max(1, calls // 10)

    def progress(i: int) -> None:
        if (i + 1) % step == 0:
            samples.append((i + 1, _rss_mib()))

    try:
        await _drive(call, 5000, concurrency, None)  # warm-up: pool full, caches filled
        gc.collect()
        start_rss = _rss_mib()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        errors, first = await _drive(call, calls, concurrency, None, progress)
        cpu1, wall1 = time.process_time(), time.perf_counter()
        held = _held_connections(int(base.rsplit(":", 1)[1]))
        gc.collect()
        end_rss = _rss_mib()
    finally:
        await close()
    return {"calls": calls, "concurrency": concurrency, "start_rss_mib": start_rss,
            "end_rss_mib": end_rss, "samples": samples, "errors": errors, "first_error": first,
            "cpu_ms": (cpu1 - cpu0) / calls * 1000, "rps": calls / (wall1 - wall0),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "held_conns": held, "blocked": sorted(set(_clients.BLOCKED))}


# -- the orchestrator ---------------------------------------------------------------------------


@contextlib.contextmanager
def _simulator() -> Iterator[tuple[str, int]]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        if not base.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"simulator did not start: {base!r}")
        yield base, int(base.rsplit(":", 1)[1])
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# asyncio reads a socket into a fresh 256 KiB buffer. Whether glibc serves that from the heap or
# with mmap + mremap + munmap (three system calls per read) depends on whether the process has
# freed a large block before, that is on what the client happened to import: CPU per call moved
# by 20-30 % between processes of the same client. Every worker gets the same fixed thresholds.
WORKER_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1 << 20), "MALLOC_TRIM_THRESHOLD_": str(4 << 20)}


def _run_worker(args: list[str], sim_port: int) -> tuple[dict[str, Any] | None, int, str]:
    """Run one worker process; returns (its JSON report or None, most connections seen, stderr)."""
    import psutil

    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **WORKER_ENV})
    watched = psutil.Process(proc.pid)
    max_conns = 0
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(psutil.Error):
            conns = watched.net_connections(kind="tcp")
            max_conns = max(max_conns, sum(
                1 for c in conns if c.raddr and c.raddr.port == sim_port and c.status == "ESTABLISHED"
            ))
        time.sleep(0.25)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if proc.returncode == 0 and lines else None
    return report, max_conns, err.strip()


def _compare(clients: list[str], concurrencies: list[int], reps: int, calls: dict[int, int],
             base: str, port: int) -> list[Cell]:
    cells: list[Cell] = []
    for rep in range(reps):
        for conc in concurrencies:
            shift = (rep + concurrencies.index(conc)) % len(clients)
            order = clients[shift:] + clients[:shift]
            if rep % 2:
                order.reverse()
            for client in order:
                n = calls[conc]
                report, conns, err = _run_worker(
                    ["--worker", client, "--base", base, "--concurrency", str(conc),
                     "--calls", str(n), "--warmup", str(max(conc, min(200, n // 4)))], port)
                cell = Cell(client, conc, rep, max_conns=conns)
                if report is None:
                    cell.failure = (err.splitlines() or ["no output"])[-1][:300]
                else:
                    for key in ("calls", "cpu_s", "wall_s", "p50_ms", "p99_ms", "rss_mib",
                                "errors", "blocked"):
                        setattr(cell, key, report[key])
                    cell.max_conns = max(conns, report["held_conns"])
                    if report["errors"]:
                        cell.failure = f"{report['errors']} errors, first: {report['first_error']}"
                cells.append(cell)
                status = cell.failure or (f"{cell.cpu_ms:.3f} ms CPU/req, {cell.rps:,.0f} req/s, "
                                          f"{cell.max_conns} conns")
                print(f"rep {rep + 1}/{reps}  c={conc:<4} {client:<15} {status}", flush=True)
    return cells


@dataclass
class Row:
    client: str
    concurrency: int
    cpu_ms: float
    rps: float
    p50_ms: float
    p99_ms: float
    rss_mib: float
    max_conns: int
    cpu_spread: tuple[float, float]
    reps: int
    failure: str
    blocked: list[str]


def _median_rows(cells: list[Cell], clients: list[str], concurrencies: list[int]) -> list[Row]:
    rows = []
    for conc in concurrencies:
        for client in clients:
            mine = [c for c in cells if c.client == client and c.concurrency == conc]
            good = [c for c in mine if not c.failure]
            blocked = sorted({h for c in mine for h in c.blocked})
            if not good:
                failure = next((c.failure for c in mine if c.failure), "not run")
                rows.append(Row(client, conc, *(float("nan"),) * 5, 0, (float("nan"),) * 2, 0,
                                failure, blocked))
                continue
            cpus = [c.cpu_ms for c in good]
            rows.append(Row(
                client, conc, statistics.median(cpus), statistics.median(c.rps for c in good),
                statistics.median(c.p50_ms for c in good), statistics.median(c.p99_ms for c in good),
                statistics.median(c.rss_mib for c in good), max(c.max_conns for c in good),
                (min(cpus), max(cpus)), len(good),
                "" if len(good) == len(mine) else f"{len(mine) - len(good)} repetition(s) failed",
                blocked,
            ))
    return rows


def _versions() -> dict[str, str]:
    names = ["binance-pm", "aiohttp", "yarl", "multidict", "attrs", "python-binance", "ccxt",
             "binance-sdk-derivatives-trading-portfolio-margin-pro", "binance-common", "requests",
             "urllib3", "orjson"]
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{model}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()} ({platform.python_implementation()})")


def _fmt(value: float, floor: float, digits: int = 3) -> str:
    if value != value:  # NaN
        return "—"
    ratio = value / floor if floor == floor and floor else float("nan")
    return f"{value:,.{digits}f} ({ratio:.2f}x)" if ratio == ratio else f"{value:,.{digits}f}"


def _table(rows: list[Row]) -> list[str]:
    floors = {r.concurrency: r for r in rows if r.client == "floor"}
    lines = [
        "| client | conc. | CPU ms/req (x floor) | req/s (x floor) | p50 ms (x floor) "
        "| p99 ms (x floor) | peak RSS MiB (x floor) | max conns | CPU min-max over reps |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        f = floors.get(r.concurrency)
        if r.failure and r.reps == 0:
            lines.append(f"| {r.client} | {r.concurrency} | could not run: {r.failure} "
                         "| | | | | | |")
            continue
        nan = float("nan")
        lines.append(
            f"| {r.client} | {r.concurrency} | {_fmt(r.cpu_ms, f.cpu_ms if f else nan)} "
            f"| {_fmt(r.rps, f.rps if f else nan, 0)} | {_fmt(r.p50_ms, f.p50_ms if f else nan, 2)} "
            f"| {_fmt(r.p99_ms, f.p99_ms if f else nan, 2)} "
            f"| {_fmt(r.rss_mib, f.rss_mib if f else nan, 1)} | {r.max_conns} "
            f"| {r.cpu_spread[0]:.3f}-{r.cpu_spread[1]:.3f} |"
        )
    return lines


def _chart(rows: list[Row], clients: list[str], concurrencies: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(concurrencies), figsize=(4.2 * len(concurrencies), 4.4),
                             sharey=False)
    if len(concurrencies) == 1:
        axes = [axes]
    colours = {"floor": "#9e9e9e", "floor-no-timeout": "#cfcfcf", "binance_pm": "#1f77b4",
               "python-binance": "#ff7f0e", "ccxt": "#2ca02c", "official-sdk": "#d62728"}
    for ax, conc in zip(axes, concurrencies, strict=True):
        mine = {r.client: r for r in rows if r.concurrency == conc}
        floor = mine.get("floor")
        names = [c for c in clients if c in mine and mine[c].cpu_ms == mine[c].cpu_ms]
        values = [mine[c].cpu_ms * 1000 for c in names]
        # Cap the axis so the close contenders stay readable; a taller bar is cut and labelled.
        cap = 2.0 * (floor.cpu_ms * 1000 if floor else max(values, default=1))
        bars = ax.bar(range(len(names)), [min(v, cap) for v in values],
                      color=[colours.get(c, "#555") for c in names])
        for bar, name, value in zip(bars, names, values, strict=True):
            label = f"{mine[name].cpu_ms / floor.cpu_ms:.2f}x" if floor else ""
            if value > cap:
                label = f"{value:.0f}µs\n{label}"  # the bar is cut at the axis top
            ax.annotate(label, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="top" if value > cap else "bottom",
                        fontsize=8 if value > cap else 9,
                        xytext=(0, -3 if value > cap else 2), textcoords="offset points",
                        color="white" if value > cap else "black")
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_title(f"concurrency {conc}")
        ax.set_ylim(0, cap * 1.08)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("CPU µs per pmLoan request (median)")
    fig.suptitle("Client CPU per pmLoan request, median (lower is better; labels: x floor; "
                 "bars past 2x floor are cut)")
    fig.tight_layout()
    fig.savefig(CHART, dpi=110)
    plt.close(fig)


def keep_section(begin: str, end: str, placeholder: str) -> str:
    """The marked section of RESULTS.md as it stands (another mode wrote it), or a placeholder."""
    if RESULTS_MD.exists():
        text = RESULTS_MD.read_text()
        if begin in text and end in text:
            return text[text.index(begin):text.index(end) + len(end)]
    return f"{begin}\n_{placeholder}_\n{end}"


def replace_section(section: str, begin: str, end: str, heading: str) -> None:
    """Put ``section`` (markers included) in RESULTS.md in place of its old text, or append it."""
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmark results\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text += f"\n{heading}\n\n{section}\n"
    RESULTS_MD.write_text(text)


def _write_results(rows: list[Row], clients: list[str], concurrencies: list[int], mode: str,
                   reps: int, calls: dict[int, int], loads: tuple[str, str], elapsed: float) -> None:
    versions = _versions()
    failures = [r for r in rows if r.failure]
    blocked = sorted({h for r in rows for h in r.blocked})
    text = [
        "# Benchmark results",
        "",
        f"Written by `python benchmarks/run.py{' --quick' if mode == 'quick' else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({elapsed:.0f} s).",
        "",
        f"- Machine: {_machine()}.",
        f"- Load average before / after: {loads[0]} / {loads[1]} (other work shares this machine).",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        f"- {reps} repetitions; calls per measured phase: "
        + ", ".join(f"{calls[c]:,} at concurrency {c}" for c in concurrencies)
        + "; each after a warm-up (connections open, clock synced).",
        "- One `GET /sapi/v1/portfolio/pmLoan` per call, against `binance_pm.testing.FakeBinance` "
        "in its own process on 127.0.0.1 (HMAC and timestamp verified, `record=False`, weight "
        "limits far above the load). Each cell is a fresh client process; client order rotates "
        "between repetitions.",
        "",
        "## Results (medians over repetitions; ratio to the floor in parentheses)",
        "",
        *_table(rows),
        "",
        f"![CPU per request by client]({CHART.name})",
        "",
        "## What each client is",
        "",
        "- **floor**: what a careful hand-written call costs: one `aiohttp.ClientSession`, the query "
        "built as a string, `hmac.new(...).hexdigest()`, `yarl.URL(..., encoded=True)`, "
        "`resp.read()`, status check, `json.loads`. No model, no clock sync, no weight books. Its "
        "session keeps aiohttp's default timeout (300 s total), so aiohttp schedules and cancels an "
        "event-loop timer for every request.",
        "- **floor-no-timeout**: the same call on a session with `ClientTimeout(total=None)`: no "
        "deadline at all, which no production client should run. It is here to show what "
        "aiohttp's per-request timer costs: binance_pm keeps its own per-request total timeout "
        "with one timer per client (`binance_pm/_deadline.py`), so its figures do not pay that "
        "cost either.",
        "- **binance_pm**: `Client.account.pm_loan()` with rate limiting on (in-memory window "
        "store), limits far above the load, default pool (100 connections); returns a `PmLoan` "
        "with a `Decimal` amount.",
        "- **python-binance**: `AsyncClient.create()` (pings and reads server time from the "
        "simulator) with its `*_URL` attributes pointed at the simulator; it has no method for this "
        "endpoint, so the call is its generic `_request_margin_api('get', 'portfolio/pmLoan', "
        "signed=True)`. No client-side rate limiting exists in it.",
        "- **ccxt**: `ccxt.async_support.binance` with every `urls['api']` entry pointed at the "
        "simulator, calling `sapi_get_portfolio_pmloan()`. Its built-in throttle is **off** "
        "(`enableRateLimit=False`): on, it spaces calls 50 ms per weight unit and would measure "
        "waiting; off can only make ccxt cheaper here.",
        "- **official-sdk**: `binance-sdk-derivatives-trading-portfolio-margin-pro` "
        "`query_portfolio_margin_pro_bankruptcy_loan_amount().data()`, `base_path` set to the "
        "simulator. It is **synchronous** (requests): it runs in a thread pool with as many "
        "threads as the concurrency, and its `requests.Session` gets an adapter with one pooled "
        "connection per thread (its default keeps 10). CPU includes every thread.",
        "",
        "## How to read it, and the noise",
        "",
        "- CPU ms/req is the client process's `time.process_time()` over the measured phase "
        "divided by the calls: it includes aiohttp/requests, the event loop and the benchmark's "
        "own tiny driver (the same for every client). It is the least noisy figure here; req/s "
        "and latency depend on the simulator, which runs on the same 2 cores.",
        "- The machine is shared with other work, so single repetitions vary; the last column "
        "shows the spread of CPU ms/req over repetitions. Differences smaller than that spread "
        "are not meaningful.",
        "- Where binance_pm's figures come from: it signs with HMAC states prepared once, parses "
        "JSON with the C scanner directly and keeps per-request total timeouts on one timer per "
        "client, where the floor pays for `hmac.new`, `json.loads`' Python layers and aiohttp's "
        "timer per request (`floor-no-timeout` shows that timer's share). Its own extra work "
        "(server clock, weight books, in-flight gate, a `Decimal` model) costs more than it does "
        "in a tight loop, because caches are cold when 50 calls interleave; the instruction "
        "counts below are free of that and of the machine's noise.",
        "- Peak RSS includes the interpreter and each library's imports (ccxt imports much more).",
        "- `max conns` is the most established TCP connections to the simulator: the larger of "
        "what the process still holds right after the measured phase (its kept-alive pool) and "
        "the most seen from outside while it ran (sampled every 0.25 s).",
        "",
    ]
    if failures:
        text += ["## Clients that did not run cleanly", ""]
        text += [f"- {r.client} at concurrency {r.concurrency}: {r.failure}" for r in failures]
        text.append("")
    text += [
        "## Network guard",
        "",
        "Every client process refuses name lookups and connections to anything but the local "
        "machine. " + (f"Refused attempts: {', '.join(blocked)}." if blocked
                       else "No client tried to reach another host in this run."),
        "",
    ]
    for heading, begin, end, placeholder in KEPT_SECTIONS:
        text += [heading, "", keep_section(begin, end, placeholder), ""]
    RESULTS_MD.write_text("\n".join(text))


def _write_long(reports: dict[str, dict[str, Any]]) -> None:
    lines = [LONG_BEGIN, "",
             f"`python benchmarks/run.py --long`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
             f"one client per process, {LONG_CALLS:,} calls at concurrency {LONG_CONCURRENCY} after "
             "5,000 warm-up calls; RSS after `gc.collect()` at the start and end of the run.",
             "",
             "| client | start RSS MiB | end RSS MiB | growth MiB | RSS every 10% of the calls "
             "| peak RSS MiB | max conns | CPU ms/req | req/s | errors |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for client, r in reports.items():
        if "failure" in r:
            lines.append(f"| {client} | could not run: {r['failure']} | | | | | | | | |")
            continue
        samples = " ".join(f"{rss:.1f}" for _, rss in r["samples"])
        lines.append(
            f"| {client} | {r['start_rss_mib']:.1f} | {r['end_rss_mib']:.1f} "
            f"| {r['end_rss_mib'] - r['start_rss_mib']:+.1f} | {samples} | {r['peak_rss_mib']:.1f} "
            f"| {r['max_conns']} | {r['cpu_ms']:.3f} | {r['rps']:,.0f} | {r['errors']} |")
    for client, r in reports.items():
        if r.get("errors"):
            lines += ["", f"{client}: {r['errors']} of {r['calls']:,} calls failed; first: "
                      f"`{r['first_error']}`."]
    lines += ["", LONG_END]
    replace_section("\n".join(lines), LONG_BEGIN, LONG_END, LONG_HEADING)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 repetitions, fewer calls (<1 min)")
    parser.add_argument("--long", action="store_true",
                        help=f"memory run only: {LONG_CALLS:,} calls, RSS at start and end")
    parser.add_argument("--reps", type=int, help="override the number of repetitions")
    parser.add_argument("--clients", default=",".join(_client_names()),
                        help="comma-separated subset of: " + ", ".join(_client_names()))
    parser.add_argument("--concurrency", default="1,50,500")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md")
    parser.add_argument("--replot", action="store_true",
                        help="redraw the chart from benchmarks/out/cells.json (no run)")
    # internal: the simulator and worker processes
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--long-worker", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve())
        return 0
    if args.worker:
        print(json.dumps(asyncio.run(_worker(args.worker, args.base, int(args.concurrency),
                                             args.calls, args.warmup))), flush=True)
        return 0
    if args.long_worker:
        print(json.dumps(asyncio.run(_long_worker(args.long_worker, args.base,
                                                  int(args.concurrency), args.calls))), flush=True)
        return 0

    OUT.mkdir(exist_ok=True)
    started = time.monotonic()
    if args.replot:
        cells = [Cell(**c) for c in json.loads((OUT / "cells.json").read_text())]
        names = list(dict.fromkeys(c.client for c in cells))
        concs = sorted({c.concurrency for c in cells})
        _chart(_median_rows(cells, names, concs), names, concs)
        return 0
    if args.long:
        reports: dict[str, dict[str, Any]] = {}
        with _simulator() as (base, port):
            for client in ("floor", "binance_pm"):
                report, conns, err = _run_worker(
                    ["--long-worker", client, "--base", base, "--concurrency",
                     str(LONG_CONCURRENCY), "--calls", str(LONG_CALLS)], port)
                reports[client] = report | {"max_conns": max(conns, report["held_conns"])} if report else {
                    "failure": (err.splitlines() or ["no output"])[-1][:300]}
                print(client, json.dumps(reports[client]), flush=True)
        (OUT / "long.json").write_text(json.dumps(reports, indent=2))
        if not args.no_write:
            _write_long(reports)
        print(f"done in {time.monotonic() - started:.0f} s")
        return 0

    plan = QUICK if args.quick else FULL
    reps = args.reps or int(plan["reps"])  # type: ignore[call-overload]
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    calls: dict[int, int] = {c: plan["calls"].get(c, 1000) for c in concurrencies}  # type: ignore[attr-defined]
    clients = [c for c in args.clients.split(",") if c]
    load_before = _load()
    with _simulator() as (base, port):
        cells = _compare(clients, concurrencies, reps, calls, base, port)
    rows = _median_rows(cells, clients, concurrencies)
    (OUT / "cells.json").write_text(json.dumps([asdict(c) for c in cells], indent=2))
    print("\n".join(_table(rows)))
    if not args.no_write:
        _write_results(rows, clients, concurrencies, "quick" if args.quick else "full", reps, calls,
                       (load_before, _load()), time.monotonic() - started)
        _chart(rows, clients, concurrencies)
        print(f"wrote {RESULTS_MD.relative_to(HERE.parent)} and {CHART.relative_to(HERE.parent)}")
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


def _client_names() -> list[str]:
    return ["floor", "floor-no-timeout", "binance_pm", "python-binance", "ccxt", "official-sdk"]


if __name__ == "__main__":
    sys.exit(main())
