"""Events of the Portfolio Margin Pro user data stream, and the parser from one text frame.

Frames are JSON objects with the event type in ``e`` and the event time (ms) in ``E``; amounts are
strings. Each model keeps the whole frame in ``raw`` so fields Binance adds later stay reachable.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

import attrs

from ._models import AccountInfo, dec, integer, ms_to_datetime, text

__all__ = [
    "AccountUpdate",
    "Event",
    "GapReason",
    "MalformedFrame",
    "RiskLevel",
    "RiskLevelChange",
    "StreamGap",
    "UnknownEvent",
    "decode_frame",
    "parse_event",
]

ACCOUNT_UPDATE = "PM_PRO_ACCOUNT_UPDATE"
RISK_LEVEL_CHANGE = "riskLevelChange"
LISTEN_KEY_EXPIRED = "listenKeyExpired"


class MalformedFrame(ValueError):
    """A frame that is not a JSON object with a string ``e``, or a known event that does not parse."""


class RiskLevel(enum.StrEnum):
    """``s`` of ``riskLevelChange``: the band uniMMR fell into (a later level arrives as a ``str``).

    PM Pro bands: 1.2-1.5 margin call (a reminder), 1.05-1.2 reduce-only, below 1.05 liquidation.
    """

    MARGIN_CALL = "MARGIN_CALL"
    REDUCE_ONLY = "REDUCE_ONLY"
    FORCE_LIQUIDATION = "FORCE_LIQUIDATION"


class GapReason(enum.StrEnum):
    """Why the stream was interrupted (``StreamGap.reason``)."""

    DROPPED = "dropped"  # the connection closed or broke
    SILENT = "silent"  # no frame for heartbeat_timeout: the socket was dead though open
    KEY_EXPIRED = "key_expired"  # listenKeyExpired, or -1125 on the keep-alive
    REFUSED = "refused"  # the first connection could not be opened


_LEVELS = frozenset(RiskLevel)


def _time(value: object) -> datetime:
    # ``E`` has been seen as a string on the fapi streams ("E":"1736996475556").
    return ms_to_datetime(integer(value))


@attrs.frozen
class AccountUpdate:
    """``PM_PRO_ACCOUNT_UPDATE``, pushed every 5 seconds: the account's risk state, in USD.

    ``uni_mmr`` is the unified maintenance margin ratio; ``actual_equity`` is equity without the
    collateral rate.
    """

    event_time: datetime
    uni_mmr: Decimal
    equity: Decimal
    actual_equity: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    available_balance: Decimal
    virtual_max_withdraw: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            event_time=_time(data["E"]),
            uni_mmr=dec(data["u"]),
            equity=dec(data["eq"]),
            actual_equity=dec(data["ae"]),
            initial_margin=dec(data["im"]),
            maintenance_margin=dec(data["mm"]),
            available_balance=dec(data["avb"]),
            virtual_max_withdraw=dec(data["vmw"]),
            raw=data,
        )


@attrs.frozen
class RiskLevelChange:
    """``riskLevelChange``: uniMMR crossed into another band. In a fast market the position may
    already be liquidated when this arrives."""

    event_time: datetime
    uni_mmr: Decimal
    level: RiskLevel | str
    equity: Decimal
    actual_equity: Decimal
    maintenance_margin: Decimal
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        level = text(data["s"])
        return cls(
            event_time=_time(data["E"]),
            uni_mmr=dec(data["u"]),
            level=RiskLevel(level) if level in _LEVELS else level,
            equity=dec(data["eq"]),
            actual_equity=dec(data["ae"]),
            maintenance_margin=dec(data["m"]),  # "m" here, "mm" in the account update
            raw=data,
        )


@attrs.frozen
class UnknownEvent:
    """An event type this version does not model (e.g. ``uniMMRDrop``): delivered raw, never dropped."""

    type: str
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)


@attrs.frozen
class StreamGap:
    """The stream was deaf from ``since`` to ``until`` (aware UTC, this machine's clock).

    ``since`` is when the last event before the interruption arrived (the stream's start if none),
    ``until`` when the new connection opened. Events in between are lost: ``snapshot`` is the
    account state read over REST after reconnecting, or None when that call failed
    (``snapshot_error`` says why).
    """

    since: datetime
    until: datetime
    reason: GapReason
    snapshot: AccountInfo | None
    snapshot_error: str | None = None


Event = AccountUpdate | RiskLevelChange | StreamGap | UnknownEvent

_PARSERS: dict[str, Callable[[Mapping[str, Any]], AccountUpdate | RiskLevelChange]] = {
    ACCOUNT_UPDATE: AccountUpdate.from_json,
    RISK_LEVEL_CHANGE: RiskLevelChange.from_json,
}
_JSON = json.JSONDecoder(parse_float=Decimal)  # exact even if Binance sends a bare number


def decode_frame(frame: str) -> dict[str, Any]:
    """The JSON object of one text frame; MalformedFrame unless it has a string ``e``."""
    try:
        data = _JSON.decode(frame)
    except ValueError as err:
        raise MalformedFrame(f"not JSON ({err.args[0].split(':')[0]})") from None
    if not isinstance(data, dict):
        raise MalformedFrame(f"not a JSON object but a {type(data).__name__}")
    if not isinstance(data.get("e"), str):
        raise MalformedFrame("no string event type 'e'")
    return data


def parse_event(data: dict[str, Any]) -> AccountUpdate | RiskLevelChange | UnknownEvent:
    """The model of a decoded frame; MalformedFrame names the field of a known event that is bad."""
    kind: str = data["e"]
    parser = _PARSERS.get(kind)
    if parser is None:
        return UnknownEvent(type=kind, raw=data)
    try:
        return parser(data)
    except KeyError as err:
        raise MalformedFrame(f"{kind} without field {err}") from None
    except (TypeError, ValueError, ArithmeticError) as err:
        raise MalformedFrame(f"{kind} with a bad field ({type(err).__name__})") from None
