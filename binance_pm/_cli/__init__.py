"""The command line, ``binance-pm`` (or ``python -m binance_pm``).

- ``_commands``: the :class:`Command` base and the commands generated from the Account and Market
  methods (options from their signatures, help from their docstrings, weight from their specs);
- ``_parser``: argparse with one-line errors and the command listing in ``--help``;
- ``_confirm``: the question a money move asks on a terminal;
- ``_output``: JSON and table output;
- ``_run``: keys or the simulator, the client, and errors as exit codes.

To add a command that is not an endpoint, subclass ``Command`` and add an instance to
``EXTRA_COMMANDS`` below; it gets the common options, the simulator and the exit codes for free.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from ._commands import Command, endpoint_commands
from ._parser import UsageError, build_parser
from ._run import Console, Exit, run

__all__ = ["EXTRA_COMMANDS", "Command", "Exit", "all_commands", "main"]

EXTRA_COMMANDS: tuple[Command, ...] = ()


def all_commands() -> list[Command]:
    return [*endpoint_commands(), *EXTRA_COMMANDS]


def _prog() -> str:
    # The name the user typed, so a printed hint ("check with: ...") can be pasted back.
    run_as = Path(sys.argv[0])
    if run_as.name == "__main__.py" and run_as.parent.name == "binance_pm":
        return "python -m binance_pm"
    return "binance-pm"


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run the command line; returns the exit code. The streams and environment default to the
    process's own (tests pass their own)."""
    console = Console(
        stdin=stdin or sys.stdin, stdout=stdout or sys.stdout, stderr=stderr or sys.stderr,
        env=os.environ if env is None else env,
    )
    prog = _prog()
    parser = build_parser(all_commands(), prog, stdout=console.stdout)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # argparse reports these from the top level, without the command's name
            raise UsageError(f"{args.command.name}: unrecognized arguments: {' '.join(extra)}")
    except UsageError as err:
        console.error(str(err))
        return Exit.USAGE
    except SystemExit as done:  # --help, --version
        return done.code if isinstance(done.code, int) else Exit.OK
    return run(args.command, args, console, prog)
