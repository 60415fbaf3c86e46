"""``python -m binance_pm.testing serve``: FakeBinance as a process, for bots outside the test's.

Prints one JSON line (``base_url``, ``futures_url``, ``control_url``, ``api_key``, ``api_secret``)
once it listens, then serves until SIGINT or SIGTERM and exits 0. Drive it over HTTP: Binance's
own paths, plus the control API under ``/__sim__/`` (see ``binance_pm.testing._control``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ._control import PREFIX
from ._faults import Fault
from ._server import TEST_API_KEY, TEST_API_SECRET, FakeBinance

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m binance_pm.testing")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run a simulator until SIGINT/SIGTERM")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--skew-ms", type=int, default=0, help="server clock minus this machine's")
    serve.add_argument("--seed", type=int, default=None,
                       help="seed of the random faults (--chaos) and transaction ids")
    serve.add_argument("--chaos", type=float, default=0.0,
                       help="share of requests (0..1) that get a random fault")
    serve.add_argument("--api-key", default=TEST_API_KEY)
    serve.add_argument("--api-secret", default=TEST_API_SECRET)
    serve.add_argument("--public-key", action="append", default=[], metavar="KEY=PEM_PATH",
                       help="also accept an RSA or Ed25519 key (repeatable)")
    serve.add_argument("--weight-window-s", type=float, default=60.0)
    serve.add_argument("--uid-weight-limit", type=int, default=180_000)
    serve.add_argument("--ip-weight-limit", type=int, default=12_000)
    serve.add_argument("--api-weight-limit", type=int, default=6_000)
    serve.add_argument("--fapi-weight-limit", type=int, default=2_400)
    return parser


def _chaos(rng: random.Random, rate: float) -> Callable[[str, str], Fault | None]:
    """Random faults a bot must survive: each before or after executing."""
    faults: list[Callable[[], Fault]] = [
        lambda: Fault.status_code(503, execute=rng.random() < 0.5),
        lambda: Fault.reset(execute=rng.random() < 0.5),
        lambda: Fault.html(502),
        lambda: Fault.latency(rng.uniform(0.05, 0.5)),
    ]

    def pick(method: str, path: str) -> Fault | None:
        if path.startswith(PREFIX) or rng.random() >= rate:
            return None
        return rng.choice(faults)()

    return pick


async def serve(args: argparse.Namespace, public_keys: dict[str, bytes]) -> None:
    sim = FakeBinance(
        api_key=args.api_key, api_secret=args.api_secret, skew_ms=args.skew_ms,
        uid_weight_limit=args.uid_weight_limit, ip_weight_limit=args.ip_weight_limit,
        api_weight_limit=args.api_weight_limit, fapi_weight_limit=args.fapi_weight_limit,
        weight_window_s=args.weight_window_s, host=args.host, port=args.port,
    )
    for key, pem in public_keys.items():
        sim.add_key(key, public_key_pem=pem)
    rng = random.Random(args.seed)
    if args.seed is not None:
        sim.state.seed_ids(rng.randrange(2**53, 2**62))
    if args.chaos > 0:
        sim.chaos = _chaos(rng, args.chaos)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with sim:
        line = {"base_url": sim.base_url, "futures_url": sim.futures_url,
                "control_url": sim.base_url + PREFIX, "api_key": sim.api_key,
                "api_secret": sim.api_secret}
        print(json.dumps(line), flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    public_keys = {}
    for spec in args.public_key:
        key, _, path = spec.partition("=")
        public_keys[key] = Path(path).read_bytes()
    asyncio.run(serve(args, public_keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
