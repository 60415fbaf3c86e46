"""python -m binance_pm: JSON out, one-line errors, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import pytest

from binance_pm.testing import FakeBinance, Fault

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
    """A refused signature prints the Binance code on one line and exits 3, secret unprinted."""
    async with FakeBinance() as sim:
        code, out, err = await _run(
            "pm-loan", "--base-url", sim.base_url,
            env={"BINANCE_API_KEY": sim.api_key, "BINANCE_API_SECRET": "wrong-secret-123"},
        )
    assert code == 3 and out == ""
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


async def test_cli_main_job_prints_exactly_the_loan() -> None:
    """The README's first command prints exactly this line: the set-up check people compare by eye."""
    code, out, err = await _run("pm-loan", "--simulator")
    assert (code, out, err) == (0, '{"asset": "BUSD", "amount": "579.45"}\n', "")


async def test_cli_refuses_a_money_move_without_a_terminal() -> None:
    """`repay --simulator` with stdin not a terminal and no --yes: one line, exit 2, no output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "binance_pm", "repay", "--simulator",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2 and out == b""
    assert err.decode().count("\n") == 1 and "--yes" in err.decode()


async def _read_until(fd: int, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        chunk = await asyncio.wait_for(asyncio.to_thread(os.read, fd, 4096), 30)
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("answer", "code", "executed"), [(b"y\n", 0, 1), (b"n\n", 1, 0)])
async def test_cli_money_move_asks_on_a_terminal(answer: bytes, code: int, executed: int) -> None:
    """On a terminal, repay shows the request and sends only on "y"; "n" sends nothing, exit 1."""
    async with FakeBinance() as sim:
        master, slave = os.openpty()
        try:
            base_env = {k: v for k, v in os.environ.items() if not k.startswith("BINANCE_")}
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "binance_pm", "repay", "--from", "SPOT",
                "--base-url", sim.base_url,
                stdin=slave, stdout=asyncio.subprocess.PIPE, stderr=slave,
                env={**base_env, "BINANCE_API_KEY": sim.api_key,
                     "BINANCE_API_SECRET": sim.api_secret},
            )
            os.close(slave)
            slave = -1
            prompt = (await _read_until(master, b"[y/N]")).decode()
            assert "POST /sapi/v1/portfolio/repay" in prompt and "from = SPOT" in prompt
            assert sim.requests == []  # nothing goes out before the answer
            os.write(master, answer)
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            os.close(master)
            if slave != -1:
                os.close(slave)
        assert proc.returncode == code
        assert len(sim.executed("/sapi/v1/portfolio/repay")) == executed
        assert (json.loads(out) == {"tran_id": 58203331886213504}) if executed else out == b""


async def test_cli_interrupted_money_move_exits_5_with_the_check() -> None:
    """Ctrl-C while a sent repay awaits its answer: exit 5 and the command to check, one line."""
    async with FakeBinance() as sim:
        sim.inject(Fault.stall(execute=True, path="/sapi/v1/portfolio/repay"))
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("BINANCE_")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "binance_pm", "repay", "--yes", "--base-url", sim.base_url,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**base_env, "BINANCE_API_KEY": sim.api_key, "BINANCE_API_SECRET": sim.api_secret},
        )
        for _ in range(600):
            if sim.executed("/sapi/v1/portfolio/repay"):
                break
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 5 and out == b""
    lines = err.decode().splitlines()
    assert len(lines) == 1 and "python -m binance_pm repay-history --start" in lines[0]
