"""Command line: ``python -m binance_pm pm-loan [--simulator] [--base-url URL] [--recv-window MS]``.

Reads ``BINANCE_API_KEY`` with ``BINANCE_API_SECRET`` (HMAC) or ``BINANCE_PRIVATE_KEY`` (a PEM path,
``BINANCE_PRIVATE_KEY_PASSPHRASE`` if encrypted) and prints the result as JSON. ``--simulator`` runs
the same call, through the whole stack, against the built-in simulator on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs

from ._client import Client
from ._constants import DEFAULT_BASE_URL, DEFAULT_RECV_WINDOW_MS
from ._errors import BinanceError
from ._secret import Secret
from ._watch import add_watch_command, run_watch

EXIT_USAGE = 2


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")  # a string: JSON numbers would lose exactness
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if attrs.has(type(value)):
        return {f.name: _jsonable(getattr(value, f.name)) for f in attrs.fields(type(value))
                if f.name != "raw"}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


async def _pm_loan(client: Client) -> Any:
    return await client.account.pm_loan()


async def _run(args: argparse.Namespace) -> Any:
    if args.simulator:
        from .testing import FakeBinance

        async with FakeBinance() as sim, Client(
            api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
            recv_window=args.recv_window,
        ) as client:
            return await _pm_loan(client)
    api_key = os.environ.get("BINANCE_API_KEY")
    secret = Secret(os.environ.get("BINANCE_API_SECRET"))  # boxed: never a bare local
    private_key = os.environ.get("BINANCE_PRIVATE_KEY")
    if not api_key or not (secret.reveal() or private_key):
        raise _UsageError(
            "set BINANCE_API_KEY and BINANCE_API_SECRET (or BINANCE_PRIVATE_KEY, a PEM path), "
            "or pass --simulator"
        )
    async with Client(
        api_key=api_key,
        api_secret=secret.reveal() or None,
        private_key=None if secret.reveal() else private_key,
        private_key_passphrase=os.environ.get("BINANCE_PRIVATE_KEY_PASSPHRASE"),
        base_url=args.base_url,
        recv_window=args.recv_window,
    ) as client:
        return await _pm_loan(client)


class _UsageError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m binance_pm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("pm-loan", help="query the Portfolio Margin Pro bankruptcy loan amount")
    cmd.add_argument("--simulator", action="store_true", help="run against the built-in simulator")
    cmd.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"default {DEFAULT_BASE_URL}")
    cmd.add_argument("--recv-window", type=int, default=DEFAULT_RECV_WINDOW_MS, metavar="MS")
    add_watch_command(sub)
    args = parser.parse_args(argv)
    if args.command == "watch":
        return run_watch(args)
    try:
        result = asyncio.run(_run(args))
    except _UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (BinanceError, ValueError, TypeError, OSError) as err:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(_jsonable(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
