"""Helpers for reading what the simulator received."""

from __future__ import annotations

from binance_pm.testing import FakeBinance, ReceivedRequest


def last(sim: FakeBinance, path: str) -> ReceivedRequest:
    """The last request the simulator received on ``path``."""
    return next(r for r in reversed(sim.requests) if r.path == path)


def payload(req: ReceivedRequest) -> str:
    """The signed query minus ``timestamp`` and ``signature``, after checking they close it.

    Those two change with every call; everything before them must match to the byte.
    """
    parts = req.query.split("&")
    assert parts[-1].startswith("signature="), req.query
    assert parts[-2].startswith("timestamp="), req.query
    return "&".join(parts[:-2])


def last_call(sim: FakeBinance) -> ReceivedRequest:
    """The last request other than server time (whose samples also come in the background)."""
    return next(r for r in reversed(sim.requests) if r.path != "/api/v3/time")
