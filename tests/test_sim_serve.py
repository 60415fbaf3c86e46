"""``python -m binance_pm.testing serve`` as another process, driven over HTTP on 127.0.0.1.

What a bot in another language does: read the one JSON line, sign requests itself, and use the
``/__sim__/`` control API to set the account, inject faults and read executions and weights.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parent.parent
KEY, SECRET = "remote-key", "remote-secret"


class Served:
    def __init__(self, proc: asyncio.subprocess.Process, info: dict[str, str]) -> None:
        self.proc = proc
        self.info = info
        self.base = info["base_url"]
        self.control = info["control_url"]


@pytest_asyncio.fixture
async def served() -> AsyncIterator[Served]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "binance_pm.testing", "serve", "--port", "0", "--skew-ms", "-2000",
        "--seed", "7", "--api-key", KEY, "--api-secret", SECRET,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    try:
        yield Served(proc, json.loads(line))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def call(http: aiohttp.ClientSession, method: str, url: str,
               **kwargs: Any) -> tuple[int, Any]:
    async with http.request(method, url, **kwargs) as resp:
        return resp.status, await resp.json(content_type=None)


async def signed(http: aiohttp.ClientSession, served: Served, method: str, path: str,
                 server_ms: int) -> tuple[int, Any]:
    query = f"timestamp={server_ms}"
    signature = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    url = aiohttp.client.URL(f"{served.base}{path}?{query}&signature={signature}", encoded=True)
    return await call(http, method, url, headers={"X-MBX-APIKEY": KEY})


async def test_serve_prints_one_line_and_is_driven_over_http(served: Served) -> None:
    """Keys and URLs in one JSON line; Binance paths and the control API on 127.0.0.1."""
    assert served.info["api_key"] == KEY and served.info["api_secret"] == SECRET
    assert served.base.startswith("http://127.0.0.1:") and served.info["futures_url"] == served.base
    async with aiohttp.ClientSession() as http:
        status, data = await call(http, "GET", f"{served.base}/api/v3/time")
        server_ms = data["serverTime"]
        status, state = await call(http, "PATCH", f"{served.control}/state",
                                   json={"loan_amount": "12.5", "spot": {"BUSD": "100"}})
        assert status == 200 and state["loan_amount"] == "12.5"
        status, loan = await signed(http, served, "GET", "/sapi/v1/portfolio/pmLoan", server_ms)
        assert (status, loan) == (200, {"asset": "BUSD", "amount": "12.5"})

        fault = {"kind": "status", "status": 503, "execute": True,
                 "path": "/sapi/v1/portfolio/repay"}
        assert (await call(http, "POST", f"{served.control}/faults", json=fault))[0] == 200
        status, _ = await signed(http, served, "POST", "/sapi/v1/portfolio/repay", server_ms)
        assert status == 503  # ...and yet it executed, which the control API tells
        status, executions = await call(http, "GET", f"{served.control}/executions")
        assert [e["path"] for e in executions] == ["/sapi/v1/portfolio/repay"]
        status, state = await call(http, "GET", f"{served.control}/state")
        assert state["loan_amount"] == "0" and state["spot"]["BUSD"] == "87.5"

        status, weights = await call(http, "GET", f"{served.control}/weights")
        assert weights["used"]["UID:/sapi/v1/portfolio/pmLoan"] == 500
        assert weights["limits"]["FAPI"] == 2400

        status, clock = await call(http, "PUT", f"{served.control}/clock", json={"skew_ms": 90_000})
        assert (status, clock["skew_ms"]) == (200, 90_000)
        status, data = await signed(http, served, "GET", "/sapi/v1/portfolio/pmLoan", server_ms)
        assert (status, data["code"]) == (400, -1021)  # the server clock moved on

        bad = await call(http, "PATCH", f"{served.control}/state", json={"no_such": 1})
        assert bad[0] == 400 and "no_such" in bad[1]["error"]
        bad = await call(http, "POST", f"{served.control}/faults", json={"kind": "meteor"})
        assert bad[0] == 400 and "meteor" in bad[1]["error"]
        await call(http, "POST", f"{served.control}/faults", json={"kind": "reset"})
        assert await call(http, "DELETE", f"{served.control}/faults") == (200, {"queued": 0})


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_serve_stops_cleanly_on_a_signal(served: Served, signum: int) -> None:
    """SIGINT or SIGTERM: exit status 0, nothing on stderr, the port closed."""
    served.proc.send_signal(signum)
    _, err = await asyncio.wait_for(served.proc.communicate(), 30)
    assert served.proc.returncode == 0 and err == b""
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await call(http, "GET", f"{served.base}/api/v3/ping")
