"""Weight pools: which budget a request's weight counts against, per API family.

Binance keeps separate books per host family. On ``/sapi`` every endpoint has its own UID and IP
budgets (``X-SAPI-USED-UID-WEIGHT-1M`` / ``X-SAPI-USED-IP-WEIGHT-1M``); ``/api`` has one IP pool
shared by all its endpoints (``X-MBX-USED-WEIGHT-1M``); the USDⓈ-M futures host (``/fapi``) has its
own shared IP pool (2,400/min, the same header name on that host).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from ._constants import HEADER_USED_API, HEADER_USED_IP, HEADER_USED_UID

__all__ = ["Pool", "WeightKind", "default_pools"]


class WeightKind(enum.StrEnum):
    """Which budget a request's weight counts against."""

    UID = "UID"  # per account, per SAPI endpoint
    IP = "IP"  # per IP address: per SAPI endpoint, or a host's shared pool (/fapi)
    API = "API"  # the /api/* pool shared by all /api endpoints, per IP


@attrs.frozen(cache_hash=True)  # a key of the limiter's per-call lookups
class Pool:
    """One budget: ``limit`` weight per ``window_ms`` of server time, reported in ``header``.

    ``per_endpoint``: each path has its own budget of this size (SAPI); otherwise the whole
    family shares one.
    """

    family: str
    kind: WeightKind
    limit: int
    header: str
    per_endpoint: bool
    window_ms: int

    def __attrs_post_init__(self) -> None:
        if self.limit <= 0:
            raise ValueError(f"{self.kind.value} weight limit of /{self.family} must be positive")
        if self.window_ms <= 0:
            raise ValueError("weight_window_s must be positive")

    def bucket(self, path: str) -> str:
        """The bucket key of ``path`` in this pool (also the scope a 429 on it blocks)."""
        return f"{self.kind.value}:{path}" if self.per_endpoint else f"{self.kind.value}:/{self.family}"


def default_pools(
    *, uid: int, ip: int, api: int, futures: int, window_s: float
) -> Mapping[tuple[str, WeightKind], Pool]:
    """Binance's pools for the families this client knows, with the given limits."""
    window_ms = round(window_s * 1000) if window_s > 0 else 0
    pools = (
        Pool("api", WeightKind.API, api, HEADER_USED_API, False, window_ms),
        Pool("sapi", WeightKind.UID, uid, HEADER_USED_UID, True, window_ms),
        Pool("sapi", WeightKind.IP, ip, HEADER_USED_IP, True, window_ms),
        Pool("fapi", WeightKind.IP, futures, HEADER_USED_API, False, window_ms),
    )
    return {(p.family, p.kind): p for p in pools}
