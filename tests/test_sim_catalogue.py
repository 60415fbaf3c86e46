"""The client's endpoint specs and the simulator's routes agree, so neither can drift.

The simulator never imports the catalogue (it is an independent oracle of Binance's docs); this
test reads both and compares method, path, weight kind and amount, signing and parameters.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from binance_pm import _catalogue
from binance_pm._clock import SERVER_TIME
from binance_pm._endpoints import Endpoint
from binance_pm.testing import FakeBinance, Route

SPECS = sorted(
    [v for v in vars(_catalogue).values() if isinstance(v, Endpoint)] + [SERVER_TIME],
    key=lambda e: e.name,
)
# Parameters that change an endpoint's weight (wire name -> a value to try).
WEIGHT_ARGS: Mapping[str, str] = {"asset": "BTC"}


def routes() -> dict[tuple[str, str], Route]:
    return FakeBinance().routes


def test_the_catalogue_holds_every_live_endpoint() -> None:
    portfolio = [s for s in SPECS if "/portfolio/" in s.path]
    assert len(portfolio) == 24  # binance-pm-pro-api.md 4.1: 24 live endpoints


@pytest.mark.parametrize("spec", SPECS, ids=lambda e: e.name)
def test_spec_matches_its_route(spec: Endpoint) -> None:
    """Method, path, kind, weight (with and without weight-changing args), signing, parameters."""
    route = routes().get((spec.method, spec.path))
    assert route is not None, f"the simulator has no {spec.method} {spec.path}"
    assert (route.signed, route.api_key) == (spec.signed, spec.api_key)
    wires = {p.wire for p in spec.params}
    assert set(route.params) == wires
    assert set(route.required) == {p.wire for p in spec.params if p.required}
    cases: list[tuple[dict[str, object], dict[str, str]]] = [({}, {})]
    cases += [({p.name: WEIGHT_ARGS[p.wire]}, {p.wire: WEIGHT_ARGS[p.wire]})
              for p in spec.params if p.wire in WEIGHT_ARGS]
    for args, wire_args in cases:
        weight = spec.weight_for(args)
        assert (route.kind, route.weight_for(wire_args)) == (weight.kind.value, weight.amount), args


# Served only to answer -21015 ENDPOINT_GONE, as Binance does; deliberately not in the client.
REMOVED = {("POST", "/sapi/v1/portfolio/mint"), ("POST", "/sapi/v1/portfolio/redeem")}


def test_every_portfolio_route_is_in_the_catalogue() -> None:
    """No simulated live PM Pro endpoint the client lacks."""
    served = {key for key in routes() if "/portfolio/" in key[1]} - REMOVED
    assert served == {(s.method, s.path) for s in SPECS if "/portfolio/" in s.path}
