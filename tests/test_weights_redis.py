"""RedisWindowStore against a real redis-server: atomic, shared by processes, exact on cancel.

Uses $BINANCE_PM_TEST_REDIS_URL (set by .ci/run), else starts redis-server on a free loopback
port; skips only when neither works and $CI is unset.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from binance_pm import Client
from binance_pm.limits import RedisWindowStore, Slot
from binance_pm.testing import FakeBinance

PM_LOAN = "/sapi/v1/portfolio/pmLoan"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("BINANCE_PM_TEST_REDIS_URL")
    if url:
        yield url
        return
    exe = shutil.which("redis-server")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs a Redis server: set BINANCE_PM_TEST_REDIS_URL or install it")
        pytest.skip("no redis-server on PATH and BINANCE_PM_TEST_REDIS_URL unset")
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest_asyncio.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


async def test_reserve_release_observe_block(redis: Redis, prefix: str) -> None:
    """The Lua scripts: all-or-nothing reserve, release, raise-only observe, blocks with bans."""
    store = RedisWindowStore(redis, prefix=prefix)
    a, b = Slot("UID:/a", 7, 600, 1000), Slot("IP:/b", 7, 50, 100)
    assert (await store.reserve([a, b], ["UID", "*"], 0)).ok
    assert not (await store.reserve([a, b], ["UID", "*"], 0)).ok  # a would exceed: neither
    assert int(await redis.get(f"{prefix}:w:IP:/b:7")) == 50
    await store.release([a])
    assert (await store.reserve([a], ["UID", "*"], 0)).ok
    await store.observe("UID:/a", 7, 900)
    await store.observe("UID:/a", 7, 100)  # never lowers
    assert int(await redis.get(f"{prefix}:w:UID:/a:7")) == 900
    await store.block("IP", 5000, False, 1000)
    blocked = await store.reserve([Slot("IP:/c", 7, 1, 10)], ["IP", "*"], 1000)
    assert (blocked.ok, blocked.blocked_until_ms, blocked.banned) == (False, 5000, False)
    await store.block("*", 9000, True, 1000)
    banned = await store.reserve([Slot("UID:/d", 7, 1, 10)], ["UID", "*"], 1000)
    assert (banned.ok, banned.blocked_until_ms, banned.banned) == (False, 9000, True)
    assert (await store.reserve([Slot("UID:/d", 7, 1, 10)], ["UID", "*"], 9001)).ok


async def test_concurrent_reservations_are_atomic(redis: Redis, prefix: str) -> None:
    """200 concurrent reservations of 10 against a limit of 1000: exactly 100 succeed."""
    store = RedisWindowStore(redis, prefix=prefix)
    slot = Slot("UID:/x", 1, 10, 1000)
    results = await asyncio.gather(*(store.reserve([slot], ["*"], 0) for _ in range(200)))
    assert sum(r.ok for r in results) == 100
    assert int(await redis.get(f"{prefix}:w:UID:/x:1")) == 1000


async def test_cancelled_waiters_leave_redis_exact(redis: Redis, prefix: str) -> None:
    """Waiters cancelled mid-wait hold nothing in Redis: its count is exactly the calls sent."""
    async with FakeBinance(uid_weight_limit=500) as sim, Client(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
        uid_weight_limit=500, limiter_store=RedisWindowStore(redis, prefix=prefix),
    ) as client:
        await client.account.pm_loan()
        window = sim.now_ms() // 60_000
        tasks = [asyncio.create_task(client.account.pm_loan()) for _ in range(5)]
        await asyncio.sleep(0.3)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert int(await redis.get(f"{prefix}:w:UID:{PM_LOAN}:{window}")) == 500
        assert sum(1 for r in sim.requests if r.path == PM_LOAN) == 1


async def test_four_processes_share_one_budget(redis_url: str, prefix: str) -> None:
    """4 processes x 50 concurrent callers on one Redis: zero 429s, >= 85% of the budget used."""
    limit, window, calls = 50_000, 1.0, 60  # 100 calls per window in all; 240 calls
    async with FakeBinance(uid_weight_limit=limit, weight_window_s=window, record=False) as sim:
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.redis_worker", sim.base_url, redis_url, prefix,
                str(calls), "50", str(limit), str(window),
                cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(4)
        ]
        outputs = [await asyncio.wait_for(p.communicate(), 120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        assert json.loads(out) == {"ok": calls}, (out, err)
    assert sim.status_counts[429] == 0
    windows = [u for (b, _), u in sorted(sim.used_by_window.items(), key=lambda kv: kv[0][1])
               if b == f"UID:{PM_LOAN}"]
    assert max(windows) <= limit and sum(windows) == 4 * calls * 500
    full = windows[:-1]
    assert sum(full) >= 0.85 * limit * len(full), windows


async def test_redis_down_is_a_binance_error(prefix: str) -> None:
    """A Redis that cannot be reached surfaces as TransportError before anything is sent."""
    from binance_pm import TransportError

    dead = Redis.from_url(f"redis://127.0.0.1:{_free_port()}/0")
    try:
        async with FakeBinance() as sim, Client(
            api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
            limiter_store=RedisWindowStore(dead, prefix=prefix),
        ) as client:
            with pytest.raises(TransportError, match="Redis"):
                await client.account.pm_loan()
            assert not any(r.path == PM_LOAN for r in sim.requests)
    finally:
        await dead.aclose()
