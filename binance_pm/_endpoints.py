"""Declarative endpoint specs: what the session needs to know about each call, and nothing else.

A spec names the HTTP method and path, its weight (kind and amount), whether it is signed and
idempotent, and its parameters: the Python name, Binance's name, whether required, and a check.
Parameter order in a spec is the order on the wire.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

import attrs

from ._encoding import encode_pairs
from ._validate import Check, enum_of
from .limits import WeightKind, bucket_key

__all__ = ["Endpoint", "Param", "Weight"]


@attrs.frozen
class Weight:
    kind: WeightKind
    amount: int


@attrs.frozen
class Param:
    """One parameter: ``name`` in Python, ``wire`` on Binance, validated by ``check``."""

    name: str
    wire: str
    check: Check | None = None
    required: bool = False


@attrs.frozen
class Endpoint:
    """One REST call. ``weight_rule`` picks the weight from the parameters when it varies."""

    name: str
    method: str
    path: str
    weight: Weight
    signed: bool = True
    idempotent: bool | None = None  # default: GET and DELETE are, POST is not
    recv_window: bool = True  # sends recvWindow (signed calls only)
    params: tuple[Param, ...] = ()
    weight_rule: Callable[[Mapping[str, object]], Weight] | None = None
    _by_name: Mapping[str, Param] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {p.name: p for p in self.params})
        if self.idempotent is None:
            object.__setattr__(self, "idempotent", self.method in ("GET", "DELETE"))

    @property
    def is_idempotent(self) -> bool:
        return bool(self.idempotent)

    def costs(self, args: Mapping[str, object]) -> tuple[tuple[WeightKind, str, int], ...]:
        """(kind, bucket, amount) for the limiter."""
        w = self.weight_rule(args) if self.weight_rule is not None else self.weight
        return ((w.kind, bucket_key(w.kind, self.path), w.amount),)

    def encode(self, args: Mapping[str, object]) -> str:
        """Validate ``args`` (Python names; None means "not sent") and return the encoded query."""
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
