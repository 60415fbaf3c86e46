"""The argument parser: one subcommand per :class:`Command`, one line per error, text help."""

from __future__ import annotations

import argparse
import difflib
import math
import re
import shutil
import textwrap
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from .. import __version__
from .._config import Timeout
from .._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_WAIT_S,
    DEFAULT_RECV_WINDOW_MS,
    DEFAULT_TOTAL_TIMEOUT_S,
    MAX_RECV_WINDOW_MS,
)
from .._validate import check_recv_window
from ._commands import Command

__all__ = ["EXIT_CODES", "UsageError", "build_parser"]

EXIT_CODES = """\
exit codes:
    0  done
    1  any other failure (network, Binance's own 5xx after retries, unreadable answer, declined)
    2  bad usage: a bad or missing option, no keys, a money move without a terminal or --yes
    3  rejected by Binance (the error line carries Binance's code, e.g. -21004)
    4  rate limited (HTTP 429/418, or no weight budget within --max-wait)
    5  outcome unknown: a money move may have executed; run the command printed before resending
  130  interrupted (Ctrl-C)"""

KEYS = """\
keys come from the environment only (never from an option: it would sit in shell history):
  BINANCE_API_KEY, and BINANCE_API_SECRET (HMAC) or BINANCE_PRIVATE_KEY (path to an Ed25519 or
  RSA PEM file, with BINANCE_PRIVATE_KEY_PASSPHRASE if it is encrypted)."""


class UsageError(Exception):
    """Bad usage: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (raised, not printed) and help on a chosen stream."""

    def __init__(
        self, *args: Any, stdout: TextIO | None = None, label: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.stdout = stdout
        self.label = label  # the command's name in error lines; "" for the top level

    def error(self, message: str) -> NoReturn:
        unknown = re.match(r"argument COMMAND: invalid choice: '([^']*)'", message)
        if unknown:  # argparse would list all the commands on this one line
            close = difflib.get_close_matches(unknown.group(1), self._commands(), n=3)
            message = f"unknown command {unknown.group(1)!r}" + (
                f"; did you mean {' or '.join(close)}?" if close else "; see --help"
            )
        if message.endswith("required: COMMAND"):
            message = f"give a command; {self.prog} --help lists them"
        raise UsageError(f"{self.label}: {message}" if self.label else message)

    def _commands(self) -> list[str]:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return list(action.choices)
        return []

    def print_help(self, file: Any = None) -> None:
        super().print_help(file if file is not None else self.stdout)

    def print_usage(self, file: Any = None) -> None:
        super().print_usage(file if file is not None else self.stdout)


def _milliseconds(text: str) -> int:
    try:
        return check_recv_window(int(text))  # the rule Client(recv_window=...) applies
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("recv_window ")) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"must be finite, got {text}")
        Timeout(total=value)  # the rule Client(timeout=...) applies
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("total ")) from None
    return value


def _wait(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a non-negative number of seconds, got {text}")
    return value


def _add_common(parser: argparse.ArgumentParser, command: Command) -> None:
    common = parser.add_argument_group("common options")
    common.add_argument("--table", action="store_true", help="print an aligned table, not JSON")
    if command.moves_money:
        common.add_argument("--yes", action="store_true",
                            help="send without asking (needed when there is no terminal)")
    common.add_argument("--simulator", action="store_true",
                        help="run against the built-in Binance simulator on 127.0.0.1")
    common.add_argument("--base-url", default=DEFAULT_BASE_URL, metavar="URL",
                        help=f"default {DEFAULT_BASE_URL}")
    common.add_argument("--recv-window", type=_milliseconds, metavar="MS",
                        help=f"how long Binance accepts a signed request, 1..{MAX_RECV_WINDOW_MS} "
                        f"(default {DEFAULT_RECV_WINDOW_MS})")
    common.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                        help=f"per attempt (default {DEFAULT_TOTAL_TIMEOUT_S:g})")
    common.add_argument("--max-wait", type=_wait, metavar="SECONDS",
                        help="how long to wait for weight budget before giving up "
                        f"(default {DEFAULT_MAX_WAIT_S:g})")
    common.add_argument("-v", "--verbose", action="store_true",
                        help="print the client's log on stderr (rate-limit waits, clock resyncs)")


def _listing(commands: Sequence[Command], width: int) -> str:
    """The commands by group: name, weight, a mark for money moves, one line of purpose."""
    name_w = max(len(c.name) for c in commands) + 2
    weight_w = max(len(c.weight) for c in commands) + 2
    indent = 2 + name_w + 2 + weight_w
    blocks = []
    groups = list(dict.fromkeys(c.group for c in commands))
    for group in groups:
        lines = [f"{group} commands:"]
        for c in (c for c in commands if c.group == group):
            mark = "*" if c.moves_money else " "
            head = f"  {c.name.ljust(name_w)}{mark} {c.weight.ljust(weight_w)}"
            wrapped = textwrap.wrap(c.purpose, max(30, width - indent), break_on_hyphens=False) or [""]
            lines.append(head + wrapped[0])
            lines.extend(" " * indent + more for more in wrapped[1:])
        blocks.append("\n".join(lines))
    blocks.append(
        "* moves money or changes a setting: shows the request and asks first (--yes skips that)\n"
        "weights: UID counts against the account's budget per endpoint, IP against this IP's"
    )
    return "\n\n".join(blocks)


def build_parser(commands: Sequence[Command], prog: str, stdout: TextIO | None = None) -> Parser:
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    parser = Parser(
        prog=prog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            "Binance Portfolio Margin Pro from the shell: every endpoint is a command. Output is "
            "JSON (one line per row for histories) or, with --table, an aligned table. "
            f'"{prog} COMMAND --help" shows a command\'s options.', width,
        ) + "\n\n" + _listing(commands, width),
        epilog=(
            "every command takes --table, --simulator, --base-url, --recv-window, --timeout, "
            "--max-wait and --verbose.\n\n"
            f'"{prog} watch [--simulator]" prints the user data stream (risk events), one JSON '
            "line per event.\n\n" + KEYS + "\n\n" + EXIT_CODES
        ),
        stdout=stdout,
    )
    parser.add_argument("--version", action="version", version=f"binance-pm {__version__}")
    sub = parser.add_subparsers(
        dest="command_name", metavar="COMMAND", required=True, help="one of the commands above"
    )
    for command in commands:
        described = "\n\n".join(
            textwrap.fill(p, width, break_on_hyphens=False) for p in command.description.split("\n\n")
        )
        if command.weight and "weight" not in command.description:
            described += f"\n\nweight: {command.weight}"
        cmd = sub.add_parser(
            command.name,
            description=described,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=EXIT_CODES,
            stdout=stdout,
            label=command.name,
        )
        command.add_arguments(cmd)
        _add_common(cmd, command)
        cmd.set_defaults(command=command)
    return parser
