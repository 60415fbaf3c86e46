"""Running one command: keys, the client (or the simulator), confirmation, errors to exit codes."""

from __future__ import annotations

import argparse
import asyncio
import enum
import logging
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

import attrs

from .._client import Client
from .._errors import (
    APIError,
    BinanceError,
    ExecutionUnknownError,
    RateLimitError,
    ServerError,
)
from .._secret import Secret
from ._commands import Command
from ._confirm import Decision, confirm
from ._output import JsonOutput, Output, TableOutput
from ._parser import UsageError
from ._text import rename

__all__ = ["Console", "Exit", "describe", "exit_code", "execute", "open_client"]

# Python names in a Client's own error messages, as the user set them (variable or option).
_ENV_NAMES = {
    "api_key": "BINANCE_API_KEY",
    "api_secret": "BINANCE_API_SECRET",
    "private_key": "BINANCE_PRIVATE_KEY",
    "private_key_passphrase": "BINANCE_PRIVATE_KEY_PASSPHRASE",
    "base_url": "--base-url",
}


class Exit(enum.IntEnum):
    """The documented exit codes (``binance-pm --help`` lists them)."""

    OK = 0
    OTHER = 1
    USAGE = 2
    REJECTED = 3
    RATE_LIMITED = 4
    UNKNOWN = 5
    INTERRUPTED = 130


@attrs.frozen
class Console:
    """The streams and environment a run uses (the process's own, or a test's)."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    env: Mapping[str, str]

    def error(self, line: str) -> None:
        # One line, whatever the message holds: a log reader and a `2>err; cat err` both cope.
        self.stderr.write("error: " + " ".join(line.split()) + "\n")
        self.stderr.flush()


def exit_code(err: BaseException) -> Exit:
    if isinstance(err, ExecutionUnknownError):
        return Exit.UNKNOWN
    if isinstance(err, RateLimitError):
        return Exit.RATE_LIMITED
    if isinstance(err, ServerError):
        return Exit.OTHER  # Binance failed (5xx, "busy") rather than refused: try again later
    if isinstance(err, APIError):
        return Exit.REJECTED
    if isinstance(err, UsageError):
        return Exit.USAGE
    return Exit.OTHER


def describe(err: BaseException) -> str:
    """One line: the class, then the message (an APIError's text already carries ``code=``)."""
    text = f"{type(err).__name__}: {err}"
    code = getattr(err, "code", None)
    if isinstance(code, int) and f"code={code}" not in text:
        text += f" (code={code})"
    return text


@asynccontextmanager
async def open_client(
    args: argparse.Namespace, command: Command, env: Mapping[str, str]
) -> AsyncIterator[Client]:
    """A client for the keys in ``env``, or for the built-in simulator with ``--simulator``."""
    overrides: dict[str, Any] = {
        k: v for k in ("recv_window", "timeout", "max_wait") if (v := getattr(args, k)) is not None
    }
    if args.simulator:
        from ..testing import FakeBinance

        async with FakeBinance() as sim, _client(
            api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url, **overrides
        ) as client:
            yield client
        return
    api_key = env.get("BINANCE_API_KEY")
    secret = Secret(env.get("BINANCE_API_SECRET") or None)  # boxed: never a bare local
    private_key = env.get("BINANCE_PRIVATE_KEY") or None
    if not api_key or (command.signed and secret.reveal() is None and private_key is None):
        raise UsageError(
            "set BINANCE_API_KEY and BINANCE_API_SECRET (or BINANCE_PRIVATE_KEY, a PEM path), "
            "or pass --simulator"
        )
    async with _client(
        api_key=api_key,
        api_secret=secret.reveal(),
        private_key=None if secret.reveal() is not None else private_key,
        private_key_passphrase=env.get("BINANCE_PRIVATE_KEY_PASSPHRASE") or None,
        base_url=args.base_url,
        **overrides,
    ) as client:
        yield client


def _client(**kwargs: Any) -> Client:
    try:
        return Client(**kwargs)
    except OSError as err:  # only the PEM file is read here
        raise UsageError(f"BINANCE_PRIVATE_KEY: {err.strerror or err}: {err.filename}") from None
    except (ValueError, TypeError, ImportError) as err:
        # A bad key or PEM file is the user's setting: name the variable, not the parameter.
        raise UsageError(rename(str(err), _ENV_NAMES)) from None


async def execute(command: Command, args: argparse.Namespace, console: Console) -> None:
    out: Output = TableOutput(console.stdout) if args.table else JsonOutput(console.stdout)
    async with open_client(args, command, console.env) as client:
        try:
            await command.run(client, args, out)
        except (ValueError, TypeError) as err:
            # Arguments are checked before anything is sent (DESIGN); name the option typed.
            raise _usage(command, err) from None
        finally:
            out.close()


def _usage(command: Command, err: Exception) -> UsageError:
    """A refused argument as one line naming the option typed (``--level``, not ``level``)."""
    message = rename(str(err), command.names)
    return UsageError(message if message.startswith(command.name) else f"{command.name}: {message}")


def _go_ahead(command: Command, args: argparse.Namespace, console: Console) -> bool:
    """A money move's request shown and confirmed (or ``--yes``); raises UsageError if refused.

    The preview encodes the options with the endpoint's own checks, so a bad value is refused
    before the question, not after the answer.
    """
    try:
        preview = command.preview(args)
    except (ValueError, TypeError) as err:
        raise _usage(command, err) from None
    target = "the built-in simulator" if args.simulator else args.base_url
    decision = confirm(
        f"{command.name} will send to {target}:\n{preview}",
        yes=getattr(args, "yes", False), stdin=console.stdin, stderr=console.stderr,
    )
    if decision is Decision.REFUSED:
        raise UsageError(
            f"{command.name} moves money or changes a setting: run it on a terminal to confirm, "
            "or pass --yes; nothing was sent"
        )
    if decision is Decision.DECLINED:
        console.error(f"{command.name}: not confirmed; nothing was sent")
    return decision is Decision.SEND


def run(command: Command, args: argparse.Namespace, console: Console, prog: str) -> Exit:
    """Run a parsed command: the one place errors become a line on stderr and an exit code."""
    started = datetime.now(UTC)  # what an unknown outcome's check command reads from
    handed_over = False
    try:
        if command.moves_money:
            if not _go_ahead(command, args, console):
                return Exit.OTHER
            started = datetime.now(UTC)
        if args.simulator:
            # Imported before the loop runs: an import inside a coroutine stalls the loop (aiohttp's
            # server modules take a while), which asyncio's debug mode reports as a slow step.
            from .. import testing  # noqa: F401
        handed_over = True
        with _library_log(console.stderr, verbose=getattr(args, "verbose", False)):
            asyncio.run(execute(command, args, console))
    except KeyboardInterrupt:
        if handed_over and command.moves_money:
            console.error(f"interrupted: {command.name} may have been sent; check with: "
                          f"{command.check_hint(args, started, prog)}")
            return Exit.UNKNOWN
        console.error("interrupted")
        return Exit.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other tools do.
        _silence(console.stdout)
        return Exit.OTHER
    except ExecutionUnknownError as err:
        hint = command.check_hint(args, started, prog)
        console.error(describe(err) + (f"; check with: {hint}" if hint else ""))
        return Exit.UNKNOWN
    except UsageError as err:
        console.error(str(err))
        return Exit.USAGE
    except BinanceError as err:
        console.error(describe(err))
        return exit_code(err)
    except (OSError, RuntimeError) as err:
        console.error(describe(err))
        return Exit.OTHER
    return Exit.OK


@contextmanager
def _library_log(stream: TextIO, *, verbose: bool) -> Iterator[None]:
    """The client's log on ``stream`` with --verbose; otherwise kept off the terminal.

    Without a handler, Python prints warnings (a 429 wait) on stderr by itself, a second line
    beside the one error line a script reads. Records still reach handlers an embedding program
    configured on the root logger.
    """
    logger = logging.getLogger("binance_pm")
    handler: logging.Handler = logging.NullHandler()
    level = logger.level
    if verbose:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("binance_pm: %(levelname)s: %(message)s"))
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _silence(stream: TextIO) -> None:
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
