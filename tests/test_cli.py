"""python -m binance_pm: JSON out, one-line errors, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from binance_pm.testing import FakeBinance

from ._wire import last_call


async def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("BINANCE_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "binance_pm", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**base_env, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_simulator_prints_loan_json() -> None:
    """--simulator runs the whole stack and prints the loan as JSON with a string amount."""
    code, out, err = await _run("pm-loan", "--simulator")
    assert code == 0, err
    assert json.loads(out) == {"asset": "BUSD", "amount": "579.45"}
    assert err == ""


async def test_cli_missing_keys_exit_2() -> None:
    """No keys in the environment: a one-line error on stderr and exit code 2."""
    code, out, err = await _run("pm-loan")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "BINANCE_API_KEY" in err


async def test_cli_env_keys_against_base_url() -> None:
    """BINANCE_API_KEY/SECRET with --base-url and --recv-window reach a server, secret unprinted."""
    async with FakeBinance(skew_ms=3000) as sim:
        code, out, err = await _run(
            "pm-loan", "--base-url", sim.base_url, "--recv-window", "7000",
            env={"BINANCE_API_KEY": sim.api_key, "BINANCE_API_SECRET": sim.api_secret},
        )
        assert code == 0, err
        assert json.loads(out)["amount"] == "579.45"
        assert last_call(sim).query.startswith("recvWindow=7000&")
        assert sim.api_secret not in out + err


async def test_cli_wrong_secret_one_line_error() -> None:
    """A refused signature prints the Binance code on one line and exits 1, secret unprinted."""
    async with FakeBinance() as sim:
        code, out, err = await _run(
            "pm-loan", "--base-url", sim.base_url,
            env={"BINANCE_API_KEY": sim.api_key, "BINANCE_API_SECRET": "wrong-secret-123"},
        )
    assert code == 1 and out == ""
    assert "-1022" in err and len(err.strip().splitlines()) == 1
    assert "wrong-secret-123" not in err


async def test_cli_simulator_clean_under_warnings_as_errors() -> None:
    """`python -W error -X dev` runs the main job with no warning at all (no unclosed session)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-W", "error", "-X", "dev", "-m", "binance_pm", "pm-loan", "--simulator",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert err.decode() == ""
    assert json.loads(out)["asset"] == "BUSD"
