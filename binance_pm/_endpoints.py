"""Declarative endpoint specs: what the session needs to know about each call, and nothing else.

A spec names the HTTP method and path (whose first segment, ``api``/``sapi``/``fapi``, is its API
family and so its host and weight pools), its weight, whether it is signed and idempotent, and its
parameters: the Python name, Binance's name, whether required, and a check. Parameter order in a
spec is the order on the wire.

These are public so any Binance REST call can go through the client's pipeline::

    ACCOUNT = Endpoint("spot_account", "GET", "/api/v3/account", Weight(WeightKind.API, 20),
                       params=(Param("omit_zero", "omitZeroBalances"),))
    data = await client.request(ACCOUNT, {"omit_zero": True})
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping

import attrs

from ._encoding import encode_pairs
from ._pools import WeightKind
from ._validate import Check, enum_of

__all__ = ["Endpoint", "Param", "Weight"]


@attrs.frozen
class Weight:
    """``amount`` of weight in the budget of ``kind`` (UID or IP on /sapi, API on /api, IP on /fapi)."""

    kind: WeightKind
    amount: int

    def __attrs_post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"weight amount must be a non-negative int, got {self.amount!r}")


@attrs.frozen
class Param:
    """One parameter: ``name`` in Python, ``wire`` on Binance, validated by ``check``."""

    name: str
    wire: str
    check: Check | None = None
    required: bool = False


def _param_tuple(params: Iterable[Param]) -> tuple[Param, ...]:
    return tuple(params)  # a list would make the endpoint unhashable


@attrs.frozen(cache_hash=True)  # a key of the session's per-call route lookup
class Endpoint:
    """One REST call.

    ``signed``: timestamp, recvWindow and signature are added. ``idempotent`` (default: GET, PUT
    and DELETE are, POST is not) decides whether a call that may have reached Binance is retried.
    ``api_key``: the ``X-MBX-APIKEY`` header is required. ``clock``: the call needs Binance's clock
    (only the server-time call itself does not). ``weight_rule`` picks the weight from the
    arguments when it varies.
    """

    name: str
    method: str
    path: str
    weight: Weight
    signed: bool = True
    idempotent: bool | None = None
    recv_window: bool = True  # sends recvWindow (signed calls only)
    params: tuple[Param, ...] = attrs.field(default=(), converter=_param_tuple)
    weight_rule: Callable[[Mapping[str, object]], Weight] | None = None
    api_key: bool = True
    clock: bool = True
    family: str = attrs.field(init=False, eq=False)
    _by_name: Mapping[str, Param] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.path.startswith("/") or self.path.count("/") < 2:
            raise ValueError(f"path must look like /family/..., got {self.path!r}")
        # The API family, the path's first segment: api, sapi, fapi, ...
        object.__setattr__(self, "family", self.path.split("/", 2)[1])
        object.__setattr__(self, "_by_name", {p.name: p for p in self.params})
        if self.idempotent is None:
            object.__setattr__(self, "idempotent", self.method in ("GET", "PUT", "DELETE"))

    @property
    def is_idempotent(self) -> bool:
        return bool(self.idempotent)

    def weight_for(self, args: Mapping[str, object]) -> Weight:
        """The weight of a call with ``args``."""
        return self.weight_rule(args) if self.weight_rule is not None else self.weight

    def encode(self, args: Mapping[str, object]) -> str:
        """Validate ``args`` (Python names; None means "not sent") and return the encoded query."""
        if not args and not self.params:
            return ""
        for name in args:
            if name not in self._by_name:
                raise TypeError(f"{self.name}() got an unexpected parameter {name!r}")
        pairs: list[tuple[str, object]] = []
        for p in self.params:
            value = args.get(p.name)
            if value is None:
                if p.required:
                    raise TypeError(f"{self.name}() missing required parameter {p.name!r}")
                continue
            pairs.append((p.wire, p.check(p.name, value) if p.check else value))
        return encode_pairs(pairs)


def choice(name: str, wire: str, cls: type[enum.StrEnum], *, required: bool = False) -> Param:
    """A parameter restricted to the members of a StrEnum."""
    return Param(name, wire, enum_of(cls), required)
