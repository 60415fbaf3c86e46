"""The simulator's HTTP control API, under ``/__sim__/`` (a prefix Binance never uses).

For bots that are not in the test's process (or not in Python): everything a test does to a
:class:`FakeBinance` object in-process, over plain HTTP with JSON bodies. Amounts travel as
strings, as Binance sends them. No key is needed: the simulator listens on loopback for tests.

============================  =======================================================
``GET /__sim__/state``        the account (wallets, loan, switches, levels)
``PATCH /__sim__/state``      set some of those fields, e.g. ``{"loan_amount": "12.5"}``
``POST /__sim__/faults``      queue a fault: ``{"kind": "status", "status": 503,
                              "path": "/sapi/v1/portfolio/repay", "execute": true}``
``DELETE /__sim__/faults``    clear queued faults
``GET /__sim__/executions``   every state change carried out, oldest first
``GET /__sim__/requests``     every request received (method, path, query, status)
``GET /__sim__/weights``      limits, used weight per bucket in its current window,
                              highest use per bucket, violations
``PUT /__sim__/clock``        ``{"skew_ms": -3000}``: move the server clock
============================  =======================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._faults import Fault, FaultKind

if TYPE_CHECKING:
    from ._server import FakeBinance

__all__ = ["PREFIX", "add_control_routes"]

PREFIX = "/__sim__"


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"expected an amount as a string, got {value!r}")
    return Decimal(value)


def _wallet(value: Any) -> dict[str, Decimal]:
    if not isinstance(value, dict):
        raise ValueError("expected an object of asset -> amount")
    return {str(k): _amount(v) for k, v in value.items()}


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _optional_amount(value: Any) -> Decimal | None:
    return None if value is None else _amount(value)


# The fields a remote test may set, each with its conversion from JSON.
_SETTABLE: dict[str, Callable[[Any], Any]] = {
    "loan_asset": str,
    "loan_amount": _amount,
    "spot": _wallet,
    "margin": _wallet,
    "um": _wallet,
    "cm": _wallet,
    "option": _wallet,
    "earn": _wallet,
    "borrowed": _wallet,
    "collateral_rates": _wallet,
    "auto_repay": _flag,
    "delta_enabled": _flag,
    "margin_call_level": _optional_amount,
    "account": _object,
    "span_account": _object,
}


def _reply(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data, default=str),
                        content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.read() or b"{}")
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "body is not JSON"}',
                                 content_type="application/json") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text='{"error": "body must be a JSON object"}',
                                 content_type="application/json")
    return data


def _fault(spec: dict[str, Any]) -> Fault:
    kind = FaultKind(spec.get("kind", "status"))
    body = spec.get("body", "")
    return Fault(
        kind=kind,
        path=spec.get("path"),
        method=spec.get("method"),
        status=int(spec.get("status", 503)),
        body=body.encode() if isinstance(body, str) else json.dumps(body).encode(),
        content_type=str(spec.get("content_type", "application/json")),
        headers={str(k): str(v) for k, v in spec.get("headers", {}).items()},
        execute=bool(spec.get("execute", kind is FaultKind.TRUNCATE)),
        delay=float(spec.get("delay", 0.0)),
        times=None if spec.get("times", 1) is None else int(spec.get("times", 1)),
    )


def add_control_routes(sim: FakeBinance) -> None:
    """Serve the control API on ``sim``'s application (before its Binance catch-all route)."""

    def state_view() -> dict[str, Any]:
        return {name: getattr(sim.state, name) for name in _SETTABLE}

    async def get_state(request: web.Request) -> web.Response:
        return _reply(state_view())

    async def patch_state(request: web.Request) -> web.Response:
        changes = await _body(request)
        try:
            converted = {name: _SETTABLE[name](value) for name, value in changes.items()}
        except KeyError as err:
            return _reply({"error": f"not a settable field: {err.args[0]}"}, 400)
        except (ValueError, InvalidOperation) as err:
            return _reply({"error": str(err)}, 400)
        for name, value in converted.items():
            setattr(sim.state, name, value)
        return _reply(state_view())

    async def add_fault(request: web.Request) -> web.Response:
        try:
            fault = _fault(await _body(request))
        except (ValueError, TypeError, AttributeError) as err:
            return _reply({"error": f"bad fault: {err}"}, 400)
        sim.inject(fault)
        return _reply({"queued": len(sim.faults)})

    async def clear_faults(request: web.Request) -> web.Response:
        sim.faults.clear()
        return _reply({"queued": 0})

    async def executions(request: web.Request) -> web.Response:
        return _reply([{"method": e.method, "path": e.path, "params": e.params,
                        "server_ms": e.server_ms, "result": e.result} for e in sim.executions])

    async def requests(request: web.Request) -> web.Response:
        return _reply([{"method": r.method, "path": r.path, "query": r.query, "status": r.status,
                        "server_ms": r.server_ms} for r in sim.requests])

    async def weights(request: web.Request) -> web.Response:
        now = sim.now_ms()
        books = sim.books
        used = {bucket: books.used(bucket, now) for bucket in books.max_used}
        return _reply({"limits": books.limits, "window_ms": books.window_ms, "used": used,
                       "max_used": dict(books.max_used), "violations": books.violations})

    async def set_clock(request: web.Request) -> web.Response:
        skew = (await _body(request)).get("skew_ms")
        if isinstance(skew, bool) or not isinstance(skew, int):
            return _reply({"error": "skew_ms must be an integer"}, 400)
        sim.skew_ms = skew
        return _reply({"skew_ms": skew, "server_ms": sim.now_ms()})

    router = sim.app.router
    router.add_get(f"{PREFIX}/state", get_state)
    router.add_patch(f"{PREFIX}/state", patch_state)
    router.add_post(f"{PREFIX}/faults", add_fault)
    router.add_delete(f"{PREFIX}/faults", clear_faults)
    router.add_get(f"{PREFIX}/executions", executions)
    router.add_get(f"{PREFIX}/requests", requests)
    router.add_get(f"{PREFIX}/weights", weights)
    router.add_put(f"{PREFIX}/clock", set_clock)
