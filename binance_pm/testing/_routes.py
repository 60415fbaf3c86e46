"""The simulator's endpoints: one small handler per route, registered with ``@route``.

``ROUTES`` holds the defaults every :class:`FakeBinance` copies when it is built; a test that
needs an extra or a different endpoint adds it to one instance with ``sim.route(...)`` (or
``sim.routes[...] = Route(...)``), so it never leaks into another test's simulator.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, MutableMapping
from decimal import Decimal
from typing import Any

import attrs

from ._state import AccountState, SimError

__all__ = ["ROUTES", "Route", "route"]

Handler = Callable[[AccountState, Mapping[str, str], int], Any]
Weigh = int | Callable[[Mapping[str, str]], int]


@attrs.frozen
class Route:
    """How Binance treats one endpoint: weight, security, accepted parameters, handler.

    ``kind`` is the weight kind, ``"UID"`` or ``"IP"`` for ``/sapi``; on ``/api`` and ``/fapi``
    every route counts in its host's one IP pool whatever the kind says (``"API"`` by custom).
    """

    method: str
    path: str
    kind: str
    weight: Weigh
    handler: Handler
    signed: bool = True
    api_key: bool = True
    executes: bool = False  # changes the account: logged as an Execution
    params: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def weight_for(self, params: Mapping[str, str]) -> int:
        return self.weight(params) if callable(self.weight) else self.weight


ROUTES: dict[tuple[str, str], Route] = {}


def register_into(
    table: MutableMapping[tuple[str, str], Route],
    method: str,
    path: str,
    kind: str,
    weight: Weigh,
    *,
    signed: bool = True,
    api_key: bool = True,
    executes: bool = False,
    params: tuple[str, ...] = (),
    required: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """A decorator that adds the handler as a route of ``table``."""

    def register(handler: Handler) -> Handler:
        table[(method, path)] = Route(
            method, path, kind, weight, handler, signed, api_key, executes, params, required
        )
        return handler

    return register


# Register a default route: simulators built afterwards serve it (``sim.route`` for one).
route = functools.partial(register_into, ROUTES)


def one_of(params: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise SimError(-1130, f"Data sent for parameter '{name}' is not valid.")
    return value


def amount(params: Mapping[str, str], name: str) -> Decimal:
    try:
        value = Decimal(params[name])
    except (KeyError, ArithmeticError):
        raise SimError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, "
                       "or malformed.") from None
    if not value.is_finite() or value <= 0:
        raise SimError(-1130, f"Data sent for parameter '{name}' is not valid.")
    return value


# /api/v3/ping and /api/v3/time: NONE security, weight 1 in the /api pool. Clients call them at
# start-up (python-binance pings before reading the time), so every simulator serves them.
@route("GET", "/api/v3/ping", "API", 1, signed=False, api_key=False)
def ping(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return {}


@route("GET", "/api/v3/time", "API", 1, signed=False, api_key=False)
def server_time(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return {"serverTime": now}


@route("GET", "/sapi/v1/portfolio/pmLoan", "UID", 500)
def pm_loan(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    return {"asset": state.loan_asset, "amount": format(state.loan_amount, "f")}


@route("POST", "/sapi/v1/portfolio/repay", "UID", 3000, executes=True, params=("from",))
def repay(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    source = one_of(params, "from", ("SPOT", "MARGIN"), "SPOT")
    if state.loan_amount <= 0:
        raise SimError(-21004, "User doesn't have portfolio margin bankruptcy loan")
    wallet = state.spot if source == "SPOT" else state.margin
    have = wallet.get(state.loan_asset, Decimal(0))
    if have < state.loan_amount:
        raise SimError(-21005, "User's spot wallet doesn't have enough BUSD to repay "
                       "portfolio margin bankruptcy loan")
    wallet[state.loan_asset] = have - state.loan_amount
    state.repay_history.append((state.loan_asset, state.loan_amount, now))
    state.loan_amount = Decimal(0)
    return {"tranId": state.next_tran_id()}


# The other endpoints register themselves on import; they need ``route`` defined above.
from . import _routes_account, _routes_market  # noqa: E402, F401
