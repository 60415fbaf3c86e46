"""Extra routes a peer library asks for at start-up; imported only by ``benchmarks/run.py``.

python-binance's ``AsyncClient.create()`` pings ``GET /api/v3/ping`` before it reads server time.
Importing this module registers the route on the shared table; the package never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._routes import route
from ._state import AccountState


@route("GET", "/api/v3/ping", "API", 1, signed=False, api_key=False)
def ping(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return {}
