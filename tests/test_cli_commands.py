"""The command line against the simulator, in process: every endpoint a command, output, exit codes.

``main()`` runs in a worker thread with its own event loop (as it would in its own process) and
talks to a FakeBinance on this test's loop through the real aiohttp stack.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from binance_pm import Client, _catalogue
from binance_pm._account import Account
from binance_pm._cli import all_commands, main
from binance_pm._cli._commands import Command, EndpointCommand, endpoint_commands, specs_by_name
from binance_pm._cli._output import Output
from binance_pm._cli._parser import build_parser
from binance_pm._cli._run import Console, run
from binance_pm._endpoints import Endpoint
from binance_pm._market import Market
from binance_pm.testing import FakeBinance, Fault

from ._wire import last_call

REPAY = "/sapi/v1/portfolio/repay"


@attrs.frozen
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines()]


async def cli(*argv: str, sim: FakeBinance | None = None, env: dict[str, str] | None = None,
              stdin: str = "") -> Ran:
    """Run ``binance-pm argv`` against ``sim`` (its keys in the environment), stdin not a terminal."""
    if sim is not None:
        argv = (*argv, "--base-url", sim.base_url)
        env = {"BINANCE_API_KEY": sim.api_key, "BINANCE_API_SECRET": sim.api_secret, **(env or {})}
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(
        main, list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err, env=env or {}
    )
    return Ran(code, out.getvalue(), err.getvalue())


def _commands() -> list[EndpointCommand]:
    return endpoint_commands()


def _public_methods(cls: type) -> set[str]:
    return {n for n, v in vars(cls).items() if inspect.isfunction(v) and not n.startswith("_")}


# -- every endpoint is a command ---------------------------------------------------------------


def test_every_public_method_has_a_command() -> None:
    """Each public Account and Market method is reachable as exactly one subcommand."""
    by_method = {(c.owner, c.method): c for c in _commands()}
    for owner, cls in (("account", Account), ("market", Market)):
        for method in _public_methods(cls):
            assert (owner, method) in by_method, f"no command for {owner}.{method}"
    assert len(by_method) == len(_commands())


def test_every_catalogue_spec_is_one_command() -> None:
    """Every endpoint spec is what exactly one (non-walking) command calls, found by its name."""
    specs = {id(v) for v in vars(_catalogue).values() if isinstance(v, Endpoint)}
    used = [id(c.spec) for c in _commands() if c.spec is not None and not c.walks]
    assert sorted(used) == sorted(specs)
    assert set(specs_by_name()) == {c.method for c in _commands() if not c.walks}


def test_command_names_are_kebab_case_of_methods() -> None:
    """account_info -> account-info; a method with a walker is the -page command."""
    names = {c.method: c.name for c in _commands()}
    assert names["account_info"] == "account-info"
    assert names["asset_index_prices"] == "asset-index-prices"
    assert names["iter_repay_history"] == "repay-history"
    assert names["repay_history"] == "repay-history-page"
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", n) for n in names.values())


def test_money_moves_are_the_non_idempotent_posts() -> None:
    """Exactly the catalogue's non-idempotent calls ask first; each has a read-only check command."""
    moving = {c.name for c in _commands() if c.moves_money}
    assert moving == {
        "repay", "auto-collection", "asset-collection", "bnb-transfer", "earn-asset-transfer",
        "set-auto-repay-futures", "repay-futures-negative-balance", "set-margin-call-level",
        "set-delta-mode",
    }
    by_name = {c.name: c for c in _commands()}
    for name in moving:
        check = by_name[name].check
        assert check in by_name and not by_name[check].moves_money, name
    assert by_name["repay"].check == "repay-history"
    assert by_name["set-delta-mode"].check == "delta-mode"


def _required_args(command: EndpointCommand) -> list[str]:
    sample = {"flag": "true", "amount": "1.5", "moment": "2026-01-01", "int": "1", "text": "USDT"}
    argv = [command.name]
    for opt in command.options:
        if opt.required:
            argv += [opt.flag, opt.choices[0] if opt.kind == "choice" else sample[opt.kind]]
    return argv + (["--yes"] if command.moves_money else [])


async def test_every_command_runs_on_the_simulator() -> None:
    """--simulator on each command, with only its required options: exit 0, JSON or a table."""
    for command in _commands():
        ran = await cli(*_required_args(command), "--simulator")
        assert ran.code == 0, (command.name, ran.err)
        assert ran.err == ""
        for line in ran.out.splitlines():
            json.loads(line)
        tabled = await cli(*_required_args(command), "--simulator", "--table")
        assert tabled.code == 0 and tabled.out.strip(), (command.name, tabled.err)
        assert "{" not in tabled.out  # a table, not JSON


async def test_help_lists_every_command_with_weight_and_no_markup() -> None:
    """--help: every command on a line with its weight; no reStructuredText in any help page."""
    ran = await cli("--help")
    assert ran.code == 0
    for c in all_commands():
        assert re.search(rf"^  {re.escape(c.name)}\s+\*?\s*{re.escape(c.weight)}\s+\S", ran.out, re.M), c.name
    pages = [ran.out] + [(await cli(c.name, "--help")).out for c in all_commands()]
    for page in pages:
        assert "``" not in page and not re.search(r":(meth|class|func):", page)
        assert "from_" not in page  # options are spelled as typed
    assert "UID 3000" in pages[0] and "IP 1/50" in pages[0]


# -- output -------------------------------------------------------------------------------------


async def test_json_objects_keep_exact_amounts_and_utc_times(fake_binance: FakeBinance) -> None:
    """One JSON object (or array) per call; amounts exact strings; times ISO 8601 UTC."""
    info = (await cli("account-info", sim=fake_binance)).json()
    assert info == {
        "uni_mmr": "5167.92171923", "account_equity": "122607.35137903",
        "actual_equity": "142607.35137903", "account_maint_margin": "23.72469206",
        "account_initial_margin": "47.44938412", "total_available_balance": "122559.90199491",
        "account_status": "NORMAL", "account_type": "PM_1",
    }
    prices = (await cli("asset-index-prices", "--asset", "BTC", sim=fake_binance)).json()
    assert prices == [{"asset": "BTC", "price": "28251.9136906", "time": "2023-05-08T03:58:58.121Z"}]
    assert last_call(fake_binance).params == {"asset": "BTC"}
    assert (await cli("margin-call-level", sim=fake_binance)).json() == {"level": None}
    rows = (await cli("balance", "--asset", "USDT", sim=fake_binance)).json()
    assert isinstance(rows, list) and [r["asset"] for r in rows] == ["USDT"]
    assert rows[0]["total_wallet_balance"] == "3200"


async def test_table_aligns_numbers_on_the_point(fake_binance: FakeBinance) -> None:
    """--table: name/value lines for one result, decimal points in one column."""
    ran = await cli("account-info", "--table", sim=fake_binance)
    assert ran.code == 0
    lines = ran.out.splitlines()
    assert [line.split()[0] for line in lines][:2] == ["uni_mmr", "account_equity"]
    numeric = [line for line in lines if re.search(r"\d\.\d", line)]
    assert len(numeric) == 6 and len({line.index(".") for line in numeric}) == 1
    assert "NORMAL" in lines[6]


async def test_table_of_rows_has_a_header_and_one_row_per_tier(fake_binance: FakeBinance) -> None:
    """A list of models as a table; a nested list (collateral tiers) as one row per tier."""
    ran = await cli("tiered-collateral-rates", "--table", sim=fake_binance)
    header, *rows = ran.out.splitlines()
    assert header.split() == ["asset", "tier_floor", "tier_cap", "collateral_rate", "cum"]
    assert [r.split()[:3] for r in rows] == [["BNB", "0.0000", "1000.0000"],
                                             ["BNB", "1000.0000", "2000.0000"]]


async def test_history_walk_prints_one_json_line_per_row_oldest_first(fake_binance: FakeBinance) -> None:
    """repay-history walks every page (more rows than one page) and prints JSON lines."""
    base = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    fake_binance.state.repay_history = [("USDT", Decimal(f"{i}.5"), base + i * 60_000) for i in range(1, 8)]
    ran = await cli("repay-history", "--start", "2026-01-01", "--end", "2026-01-02",
                    "--page-size", "3", sim=fake_binance)
    assert ran.code == 0, ran.err
    assert ran.lines() == [
        {"asset": "USDT", "amount": f"{i}.5", "repay_time": f"2026-01-01T00:0{i}:00.000Z"}
        for i in range(1, 8)
    ]
    assert len([r for r in fake_binance.requests if r.path.endswith("pmloan-history")]) == 3


async def test_history_table_and_empty_walk(fake_binance: FakeBinance) -> None:
    """A walk with --table prints one table at the end; an empty one says so."""
    ran = await cli("interest-history", "--start", "2022-12-01", "--end", "2022-12-10", "--table",
                    sim=fake_binance)
    assert ran.out.splitlines()[0].split()[:2] == ["asset", "interest"]
    assert "24.4440" in ran.out
    empty = await cli("repay-history", "--start", "2026-01-01", "--table", sim=fake_binance)
    assert (empty.code, empty.out) == (0, "(no rows)\n")


# -- bad options send nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["set-margin-call-level", "--level", "3", "--yes"], "--level"),
        (["set-margin-call-level", "--level", "1.5e", "--yes"], "--level"),
        (["balance", "--asset", ""], "--asset"),
        (["repay-history-page", "--size", "500"], "--size"),
        (["repay-history", "--start", "2026-02-01", "--end", "2026-01-01"], "--start"),
        (["repay-history", "--start", "last tuesday"], "--start"),
        (["repay", "--from", "FUTURES", "--yes"], "--from"),
        (["asset-collection", "--asset", "BNB", "--yes"], "--asset"),
        (["asset-collection", "--asset", "USDT", "--amount", "5", "--yes"], "--future-type"),
        (["bnb-transfer", "--amount", "-1", "--transfer-side", "TO_UM", "--yes"], "--amount"),
        (["set-delta-mode", "--delta-enabled", "yes", "--yes"], "--delta-enabled"),
        (["earn-asset-balance", "--transfer-type", "EARN_TO_FUTURE", "--asset", "RWUSD"], "--asset"),
        (["pm-loan", "--recv-window", "70000"], "--recv-window"),
        (["pm-loan", "--timeout", "0"], "--timeout"),
        (["pm-loan", "--max-wait", "-1"], "--max-wait"),
        (["bnb-transfer", "--amount", "1", "--yes"], "--transfer-side"),
        (["pm-loan", "--bogus"], "pm-loan: unrecognized arguments: --bogus"),
        (["repay", "--yes", "--from"], "--from"),
    ],
)
async def test_bad_option_is_one_line_exit_2_and_sends_nothing(
    fake_binance: FakeBinance, argv: list[str], named: str
) -> None:
    """A value the Python call refuses: one line naming the option, exit 2, no request at all."""
    ran = await cli(*argv, sim=fake_binance)
    assert ran.code == 2 and ran.out == ""
    assert len(ran.err.splitlines()) == 1 and named in ran.err, ran.err
    assert fake_binance.requests == []


async def test_unknown_command_suggests_a_near_name() -> None:
    """A typo: one line, exit 2, with the nearest command names."""
    ran = await cli("repy")
    assert ran.code == 2 and ran.err == "error: unknown command 'repy'; did you mean repay?\n"


# -- money moves -------------------------------------------------------------------------------


async def test_money_move_without_terminal_or_yes_refuses(fake_binance: FakeBinance) -> None:
    """No terminal and no --yes: refused with exit 2 before any request; the loan is untouched."""
    ran = await cli("repay", "--from", "MARGIN", sim=fake_binance, stdin="y\n")
    assert ran.code == 2 and ran.out == ""
    assert "--yes" in ran.err and len(ran.err.splitlines()) == 1
    assert fake_binance.requests == [] and fake_binance.executions == []


async def test_money_move_with_yes_executes_once(fake_binance: FakeBinance) -> None:
    """--yes sends the request once and prints the transaction id."""
    fake_binance.state.spot["BUSD"] = Decimal("1000")
    ran = await cli("repay", "--yes", sim=fake_binance)
    assert ran.code == 0, ran.err
    assert ran.json() == {"tran_id": 58203331886213504}
    assert len(fake_binance.executed(REPAY)) == 1 and len(fake_binance.executions) == 1


# -- exit codes ----------------------------------------------------------------------------------


async def test_rejected_by_binance_exits_3_with_the_code(fake_binance: FakeBinance) -> None:
    """A Binance error answer: exit 3, one line carrying Binance's code."""
    fake_binance.state.loan_amount = Decimal(0)
    ran = await cli("repay", "--yes", sim=fake_binance)
    assert ran.code == 3 and ran.out == ""
    assert "-21004" in ran.err and "PortfolioMarginError" in ran.err
    assert len(ran.err.splitlines()) == 1


def _too_much_weight() -> Fault:
    return Fault.status_code(
        429, body='{"code": -1003, "msg": "Too much request weight used"}',
        headers={"Retry-After": "30"}, path="/sapi/v1/portfolio/pmLoan",
    )


async def test_rate_limited_exits_4(fake_binance: FakeBinance, capsys: pytest.CaptureFixture[str]) -> None:
    """A 429 whose Retry-After exceeds --max-wait: exit 4, the one error line and nothing else."""
    fake_binance.inject(_too_much_weight())
    ran = await cli("pm-loan", "--max-wait", "0", sim=fake_binance)
    assert ran.code == 4, ran.err
    assert "-1003" in ran.err and len(ran.err.splitlines()) == 1
    assert capsys.readouterr().err == ""  # the client's warning did not reach the terminal


async def test_verbose_prints_the_client_log(fake_binance: FakeBinance) -> None:
    """--verbose shows the client's own log lines (here the 429 back-off) before the error."""
    fake_binance.inject(_too_much_weight())
    ran = await cli("pm-loan", "--max-wait", "0", "--verbose", sim=fake_binance)
    assert ran.code == 4
    first, last = ran.err.splitlines()
    assert first.startswith("binance_pm: WARNING: rate limited (429)") and "-1003" in last


async def test_outcome_unknown_exits_5_and_prints_the_check(fake_binance: FakeBinance) -> None:
    """A 503 after the repayment executed: exit 5 and the history command to run, which works."""
    fake_binance.inject(Fault.status_code(503, execute=True, path=REPAY))
    ran = await cli("repay", "--yes", sim=fake_binance)
    assert ran.code == 5 and ran.out == ""
    assert len(fake_binance.executed(REPAY)) == 1  # it did go through: exactly why the user must check
    assert len(ran.err.splitlines()) == 1 and "ExecutionUnknownError" in ran.err
    hint = ran.err.split("check with: ", 1)[1].split()
    hint = hint[hint.index("repay-history"):]
    assert hint[:2] == ["repay-history", "--start"]
    check = await cli(*hint, sim=fake_binance)
    assert check.code == 0 and len(check.lines()) == 1  # the repayment shows up there


async def test_server_failing_after_retries_exits_1(fake_binance: FakeBinance) -> None:
    """A GET answered 503 on every retry: Binance failed rather than refused, so exit 1, not 3."""
    fake_binance.inject(Fault.status_code(503, body='{"code": -1001, "msg": "Internal error"}',
                                 path="/sapi/v1/portfolio/pmLoan", times=None))
    ran = await cli("pm-loan", sim=fake_binance)
    assert ran.code == 1 and "ServerError" in ran.err and "-1001" in ran.err
    assert len([r for r in fake_binance.requests if r.path.endswith("pmLoan")]) > 1  # it was retried


async def test_other_failure_exits_1(fake_binance: FakeBinance) -> None:
    """A success status with a body that is not JSON: exit 1, one line."""
    fake_binance.inject(Fault.status_code(200, body="<html>maintenance</html>", content_type="text/html",
                                 path="/sapi/v1/portfolio/account"))
    ran = await cli("account-info", sim=fake_binance)
    assert ran.code == 1 and ran.out == ""
    assert "InvalidResponseError" in ran.err and len(ran.err.splitlines()) == 1


async def test_missing_secret_for_signed_command_exits_2_unsigned_runs(fake_binance: FakeBinance) -> None:
    """An API key alone is enough for the unsigned market commands, not for a signed one."""
    env = {"BINANCE_API_KEY": fake_binance.api_key}
    signed = await cli("pm-loan", "--base-url", fake_binance.base_url, env=env)
    assert signed.code == 2 and "BINANCE_API_SECRET" in signed.err
    unsigned = await cli("collateral-rates", "--base-url", fake_binance.base_url, env=env)
    assert unsigned.code == 0, unsigned.err
    assert {r["asset"] for r in unsigned.json()} == {"USDC", "BTC", "BNB"}


async def test_bad_secret_names_the_variable_not_the_parameter(fake_binance: FakeBinance) -> None:
    """A malformed secret in the environment: exit 2 naming BINANCE_API_SECRET; never echoed."""
    ran = await cli("pm-loan", sim=fake_binance, env={"BINANCE_API_SECRET": "bad\nsecret"})
    assert ran.code == 2 and "BINANCE_API_SECRET" in ran.err and "secret\n" not in ran.err
    assert fake_binance.requests == []


# -- a command that is not an endpoint -------------------------------------------------------------


@attrs.frozen
class _Ticks(Command):
    """A stand-in for a later non-endpoint command (a stream watcher): rows as they come."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--count", type=int, default=2)

    async def run(self, client: Client, args: argparse.Namespace, out: Output) -> None:
        for n in range(args.count):
            out.row({"n": n, "server_time_known": await client.server_time() > 0})


async def test_a_non_endpoint_command_gets_the_common_options() -> None:
    """A Command subclass is listed in --help and runs with --simulator, JSON lines and --table."""
    ticks = _Ticks(name="ticks", group="stream", purpose="Count to --count", weight="API 1/tick")
    commands = [*all_commands(), ticks]

    def go(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        console = Console(stdin=io.StringIO(), stdout=out, stderr=io.StringIO(), env={})
        args = build_parser(commands, "binance-pm", stdout=out).parse_args(list(argv))
        return run(args.command, args, console, "binance-pm"), out.getvalue()

    code, out = await asyncio.to_thread(go, "ticks", "--count", "3", "--simulator")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"n": n, "server_time_known": True} for n in range(3)
    ]
    code, out = await asyncio.to_thread(go, "ticks", "--simulator", "--table")
    assert (code, out.splitlines()) == (0, ["n  server_time_known", "0  true", "1  true"])
    listing = build_parser(commands, "binance-pm").format_help()
    assert re.search(r"^stream commands:\n  ticks\s+API 1/tick\s+Count to --count$", listing, re.M)


async def test_private_key_from_a_pem_path_with_passphrase(fake_binance: FakeBinance, tmp_path: Path) -> None:
    """BINANCE_PRIVATE_KEY names an encrypted Ed25519 PEM, BINANCE_PRIVATE_KEY_PASSPHRASE opens it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"open sesame"),
    ))
    fake_binance.add_key("ed-key", public_key_pem=key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
    ))
    env = {"BINANCE_API_KEY": "ed-key", "BINANCE_PRIVATE_KEY": str(pem)}
    ran = await cli("pm-loan", "--base-url", fake_binance.base_url,
                    env={**env, "BINANCE_PRIVATE_KEY_PASSPHRASE": "open sesame"})
    assert (ran.code, ran.json()) == (0, {"asset": "BUSD", "amount": "579.45"}), ran.err
    wrong = await cli("pm-loan", "--base-url", fake_binance.base_url,
                      env={**env, "BINANCE_PRIVATE_KEY_PASSPHRASE": "nope"})
    assert wrong.code == 2 and "private key" in wrong.err and "nope" not in wrong.err
    missing = await cli("pm-loan", "--base-url", fake_binance.base_url,
                        env={**env, "BINANCE_PRIVATE_KEY": str(tmp_path / "absent.pem")})
    assert missing.code == 2 and missing.err.startswith("error: BINANCE_PRIVATE_KEY: ")
