"""The simulator's weight books: which pool a request counts in, 429s, and when a 418 ban follows.

Pools, as Binance documents them (``binance-pm-pro-api.md`` 2.1 and 7.1), all on per-minute windows
(``weight_window_s`` shortens them for tests):

========  =====================================  ==========  ================================
family    budget                                 default     usage header
========  =====================================  ==========  ================================
``/api``  one pool per IP for every /api path    6,000       ``X-MBX-USED-WEIGHT-1M``
``/sapi`` one budget per endpoint, kind UID      180,000     ``X-SAPI-USED-UID-WEIGHT-1M``
``/sapi`` one budget per endpoint, kind IP       12,000      ``X-SAPI-USED-IP-WEIGHT-1M``
``/fapi`` one pool per IP (the futures host)     2,400       ``X-MBX-USED-WEIGHT-1M``
========  =====================================  ==========  ================================

What "one endpoint" means on ``/sapi`` is a policy, :data:`BucketPolicy`: Binance's docs make each
endpoint's budget independent but do not say whether GET and POST on one path are one endpoint.
The default, :func:`per_path`, lets them share (the stricter reading, so a bot tested here does
not overspend in production); :func:`per_method_and_path` and :func:`per_kind` are the others.

Escalation is a policy per family, :class:`Escalation`. A *violation* is a request sent into an
active 429 of the same budget (before that 429's Retry-After elapsed); violations older than
``decay_s`` are forgotten; ``ban_after`` recent violations earn a 418 for ``ban_s`` seconds that
stops every request to that host (``/api`` and ``/sapi`` share ``api.binance.com``; ``/fapi`` is
``fapi.binance.com``). Binance's sources disagree on whether ``/sapi`` ever answers 418 (the
CAAS page: "always 429"), so ``/sapi`` defaults to never banning; ``/api`` and ``/fapi``
ban after 3 violations, as their docs describe. Binance publishes no decay; 60 s is ours.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict, deque
from collections.abc import Callable, Mapping

import attrs

from ._state import SimError

__all__ = [
    "BucketPolicy",
    "Escalation",
    "Family",
    "WeightBooks",
    "family_of",
    "per_kind",
    "per_method_and_path",
    "per_path",
]


class Family(enum.StrEnum):
    """The API family of a path: its first segment."""

    API = "api"
    SAPI = "sapi"
    FAPI = "fapi"


def family_of(path: str) -> Family | None:
    """``/api/v3/time`` -> ``Family.API``; None for a path Binance does not serve."""
    head = path.split("/", 2)[1] if path.startswith("/") else ""
    try:
        return Family(head)
    except ValueError:
        return None


_HOST = {Family.API: "api", Family.SAPI: "api", Family.FAPI: "fapi"}  # who shares a ban

BucketPolicy = Callable[[str, str, str], str]
"""``(kind, method, path) -> bucket key`` for ``/sapi``: requests with one key share a budget."""


def per_path(kind: str, method: str, path: str) -> str:
    """Every method on one path shares the budget (the default)."""
    return f"{kind}:{path}"


def per_method_and_path(kind: str, method: str, path: str) -> str:
    """GET and POST on one path count apart, as two endpoints of Binance's tables."""
    return f"{kind}:{method} {path}"


def per_kind(kind: str, method: str, path: str) -> str:
    """All UID (or all IP) endpoints share one budget: the header's other possible reading."""
    return kind


@attrs.frozen
class Escalation:
    """When requests sent into an active 429 earn a 418 ban (see the module docstring).

    ``ban_after=None`` never bans: every over-limit request gets a 429, counted against its
    own budget only.
    """

    ban_after: int | None = 3
    ban_s: int = 120
    decay_s: float = 60.0

    @classmethod
    def never(cls) -> Escalation:
        """Only ever 429s: the reading of Binance's CAAS page for ``/sapi``."""
        return cls(ban_after=None)


DEFAULT_ESCALATION: Mapping[Family, Escalation] = {
    Family.API: Escalation(),
    Family.SAPI: Escalation.never(),
    Family.FAPI: Escalation(),
}


@attrs.define
class _Window:
    window: int = -1
    used: int = 0


@attrs.frozen
class Pool:
    """Where one request's weight counts: bucket key, limit and the header that reports it."""

    family: Family
    bucket: str
    limit: int
    header: str


class WeightBooks:
    """Windows, 429 blocks, violations and bans for every pool; the server's one rate authority."""

    def __init__(
        self,
        *,
        limits: Mapping[str, int],
        window_ms: int,
        sapi_buckets: BucketPolicy,
        escalation: Mapping[Family, Escalation],
    ) -> None:
        self.limits = dict(limits)  # "UID", "IP" (per /sapi endpoint), "API", "FAPI"
        self.window_ms = window_ms
        self.sapi_buckets = sapi_buckets
        self.escalation = {**DEFAULT_ESCALATION, **escalation}
        self.max_used: dict[str, int] = defaultdict(int)  # bucket -> highest count in a window
        self.used_by_window: dict[tuple[str, int], int] = defaultdict(int)
        self.violations = 0  # every request sent into an active 429, ever
        self._windows: dict[str, _Window] = defaultdict(_Window)
        self._blocked_until: dict[str, int] = {}  # bucket -> end of its 429
        self._strikes: dict[Family, deque[int]] = defaultdict(deque)  # violation times
        self._banned_until: dict[str, int] = {}  # host -> end of its 418

    def pool(self, kind: str, method: str, path: str) -> Pool:
        """The pool a request counts in: its family's, and on ``/sapi`` its bucket policy's."""
        family = family_of(path) or Family.SAPI
        if family is Family.API:
            return Pool(family, "API", self.limits["API"], "X-MBX-USED-WEIGHT-1M")
        if family is Family.FAPI:
            return Pool(family, "FAPI", self.limits["FAPI"], "X-MBX-USED-WEIGHT-1M")
        header = f"X-SAPI-USED-{kind}-WEIGHT-1M"
        return Pool(family, self.sapi_buckets(kind, method, path), self.limits[kind], header)

    def used(self, bucket: str, now: int) -> int:
        """Weight used in ``bucket``'s window holding server time ``now``."""
        w = self._windows[bucket]
        return w.used if w.window == now // self.window_ms else 0

    def charge(self, bucket: str, amount: int, now: int) -> int:
        """Add ``amount`` to ``bucket``'s current window, unchecked; returns the new count."""
        w = self._windows[bucket]
        window = now // self.window_ms
        if w.window != window:
            w.window, w.used = window, 0
        w.used += amount
        self.used_by_window[(bucket, window)] = w.used
        self.max_used[bucket] = max(self.max_used[bucket], w.used)
        return w.used

    def check_ban(self, path: str, now: int, headers: dict[str, str]) -> None:
        """418 while this path's host is banned."""
        host = _HOST[family_of(path) or Family.SAPI]
        until = self._banned_until.get(host, 0)
        if until > now:
            headers["Retry-After"] = str(math.ceil((until - now) / 1000))
            raise SimError(-1003, f"Way too much request weight used; IP banned until {until}.", 418)

    def admit(self, pool: Pool, weight: int, now: int, headers: dict[str, str]) -> None:
        """Charge ``weight`` to the pool, or answer 429 (and 418 once escalation says so)."""
        if self._blocked_until.get(pool.bucket, 0) > now:
            self._strike(pool.family, now, headers)
        used = self.used(pool.bucket, now)
        if used + weight > pool.limit:
            end = (now // self.window_ms + 1) * self.window_ms
            self._blocked_until[pool.bucket] = end
            headers[pool.header] = str(used)
            headers["Retry-After"] = str(max(1, math.ceil((end - now) / 1000)))
            raise SimError(-1003, f"Too much request weight used; current limit is {pool.limit} "
                           "request weight per 1 MINUTE.", 429)
        headers[pool.header] = str(self.charge(pool.bucket, weight, now))

    def _strike(self, family: Family, now: int, headers: dict[str, str]) -> None:
        self.violations += 1
        policy = self.escalation[family]
        strikes = self._strikes[family]
        strikes.append(now)
        while strikes and strikes[0] <= now - policy.decay_s * 1000:
            strikes.popleft()
        if policy.ban_after is not None and len(strikes) >= policy.ban_after:
            strikes.clear()
            until = now + policy.ban_s * 1000
            self._banned_until[_HOST[family]] = until
            headers["Retry-After"] = str(policy.ban_s)
            raise SimError(-1003, f"Way too much request weight used; IP banned until {until}.", 418)
