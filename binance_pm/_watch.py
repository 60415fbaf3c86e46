"""``python -m binance_pm watch [--simulator]``: the user data stream, one JSON line per event.

Needs ``BINANCE_API_KEY`` (the listen key takes only the API key); with ``BINANCE_API_SECRET`` or
``BINANCE_PRIVATE_KEY`` the StreamGap lines also carry the account snapshot. ``--simulator`` runs
against the built-in simulator, whose account drifts through the risk bands and loses its
connection once, so every kind of line shows up within a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import attrs

from ._client import Client
from ._constants import DEFAULT_BASE_URL
from ._errors import BinanceError
from ._secret import Secret
from ._stream_models import Event, UnknownEvent

__all__ = ["add_watch_command", "event_json", "run_watch"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def add_watch_command(sub: Any) -> None:
    """Register ``watch`` on the command line's subparsers."""
    cmd = sub.add_parser("watch", help="print the PM Pro user data stream, one JSON line per event")
    cmd.add_argument("--simulator", action="store_true", help="run against the built-in simulator")
    cmd.add_argument("--count", type=int, default=None, metavar="N", help="stop after N events")
    cmd.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"default {DEFAULT_BASE_URL}")
    cmd.add_argument("--futures-url", default="https://fapi.binance.com")
    cmd.add_argument("--stream-url", default="wss://fstream.binance.com")
    cmd.add_argument("--heartbeat-timeout", type=float, default=15.0, metavar="S")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")  # an exact string: a JSON number would go through a float
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if attrs.has(type(value)):
        return {f.name: _plain(getattr(value, f.name)) for f in attrs.fields(type(value))
                if f.name != "raw"}
    return value


def event_json(event: Event) -> str:
    """One line: ``{"event": "<class>", <fields>}``; an UnknownEvent carries its raw frame."""
    fields = _plain(event)
    if isinstance(event, UnknownEvent):
        fields["raw"] = _plain(dict(event.raw))
    return json.dumps({"event": type(event).__name__, **fields})


async def _print_events(client: Client, args: argparse.Namespace) -> None:
    seen = 0
    async with client.user_stream(heartbeat_timeout=args.heartbeat_timeout) as stream:
        async for event in stream:
            print(event_json(event), flush=True)
            seen += 1
            if args.count is not None and seen >= args.count:
                return


@asynccontextmanager
async def _simulated_client(simulator: Any) -> AsyncIterator[Client]:
    async with simulator() as sim, Client(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
        futures_url=sim.base_url, stream_url=sim.stream.url,
    ) as client:
        sim.stream.cadence = 0.5
        demo = asyncio.get_running_loop().create_task(_drift(sim))
        try:
            yield client
        finally:
            demo.cancel()
            await asyncio.gather(demo, return_exceptions=True)


async def _drift(sim: Any) -> None:
    """Walk uniMMR down through the bands and back, with one dropped connection on the way."""
    level = None
    for step, ratio in enumerate(["1.62", "1.41", "1.18", "1.09", "1.31", "1.58"] * 1000):
        sim.state.account["uniMMR"] = ratio
        now = _band(Decimal(ratio))
        if now is not None and now != level:
            await sim.stream.push_risk_level(now, uni_mmr=ratio)
        level = now
        if step == 4:
            sim.stream.drop()  # shows the StreamGap line and its snapshot
        await asyncio.sleep(1.0)


def _band(uni_mmr: Decimal) -> str | None:
    """PM Pro's bands: below 1.5 margin call, 1.2 reduce-only, 1.05 liquidation."""
    for floor, level in (("1.05", "FORCE_LIQUIDATION"), ("1.2", "REDUCE_ONLY"), ("1.5", "MARGIN_CALL")):
        if uni_mmr < Decimal(floor):
            return level
    return None


async def _watch(args: argparse.Namespace, simulator: Any = None) -> None:
    if simulator is not None:
        async with _simulated_client(simulator) as client:
            await _print_events(client, args)
        return
    api_key = os.environ.get("BINANCE_API_KEY")
    secret = Secret(os.environ.get("BINANCE_API_SECRET"))  # boxed: never a bare local
    private_key = os.environ.get("BINANCE_PRIVATE_KEY")
    if not api_key:
        raise _UsageError("set BINANCE_API_KEY (and BINANCE_API_SECRET or BINANCE_PRIVATE_KEY for "
                          "snapshots), or pass --simulator")
    async with Client(
        api_key=api_key, api_secret=secret.reveal() or None,
        private_key=None if secret.reveal() else private_key,
        private_key_passphrase=os.environ.get("BINANCE_PRIVATE_KEY_PASSPHRASE"),
        base_url=args.base_url, futures_url=args.futures_url, stream_url=args.stream_url,
    ) as client:
        await _print_events(client, args)


class _UsageError(Exception):
    pass


def run_watch(args: argparse.Namespace) -> int:
    """Run ``watch``; the exit code: 0 done, 1 an error, 2 usage, 130 interrupted."""
    simulator: Any = None
    if args.simulator:
        # Imported before the loop starts: inside it, the import alone can outlast asyncio's
        # 100 ms slow-step warning on a busy machine (python -X dev).
        from .testing import FakeBinance

        simulator = FakeBinance
    try:
        asyncio.run(_watch(args, simulator))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except _UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (BinanceError, ValueError, TypeError, OSError) as err:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0
