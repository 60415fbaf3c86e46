"""Command line: ``python -m binance_pm COMMAND`` (also installed as ``binance-pm``).

Every endpoint is a command (see ``binance_pm._cli``); ``watch`` prints the user data stream
(see ``binance_pm._watch``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._cli import main as endpoint_main
from ._watch import add_watch_command, run_watch

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["watch"]:
        parser = argparse.ArgumentParser(prog="binance-pm")
        add_watch_command(parser.add_subparsers(dest="command", required=True))
        return run_watch(parser.parse_args(args))
    return endpoint_main(args)


if __name__ == "__main__":
    sys.exit(main())
