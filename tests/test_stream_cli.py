"""python -m binance_pm watch: one JSON line per event, amounts as exact strings, gaps included."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from decimal import Decimal

from binance_pm.testing import FakeBinance


async def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("BINANCE_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-W", "error", "-X", "dev", "-m", "binance_pm", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**base_env, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_watch_simulator_shows_every_kind() -> None:
    """--simulator: account updates, risk level changes and a gap with its snapshot, cleanly."""
    code, out, err = await _run("watch", "--simulator", "--count", "12")
    assert code == 0, err
    assert err == ""
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 12
    kinds = {line["event"] for line in lines}
    assert {"AccountUpdate", "RiskLevelChange", "StreamGap"} <= kinds
    update = next(line for line in lines if line["event"] == "AccountUpdate")
    assert update["equity"] == "122607.35137903" and isinstance(update["uni_mmr"], str)
    Decimal(update["uni_mmr"])
    gap = next(line for line in lines if line["event"] == "StreamGap")
    assert gap["reason"] == "dropped" and gap["snapshot"]["account_status"] == "NORMAL"


async def test_watch_with_env_key_against_server() -> None:
    """BINANCE_API_KEY alone is enough; --futures-url/--stream-url reach the given server."""
    async with FakeBinance() as sim:
        sim.stream.cadence = 0.05
        code, out, err = await _run(
            "watch", "--count", "2", "--base-url", sim.base_url, "--futures-url", sim.base_url,
            "--stream-url", sim.stream.url, env={"BINANCE_API_KEY": sim.api_key},
        )
        key = sim.state.listen_key
    assert code == 0, err
    assert [json.loads(line)["event"] for line in out.splitlines()] == ["AccountUpdate"] * 2
    assert key is not None and key not in out + err


async def test_watch_without_key_exit_2() -> None:
    """No API key in the environment: one line on stderr, exit code 2."""
    code, out, err = await _run("watch")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "BINANCE_API_KEY" in err
