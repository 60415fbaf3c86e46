"""What a user configures about weight accounting: the stores and the snapshot types.

Binance counts request weight per window of its own clock, in pools per API family (see the
README's "Weights"). The client keeps the same books in a :class:`WindowStore`:
:class:`InMemoryWindowStore` (the default, one process) or :class:`RedisWindowStore` (every process
and host on one account share one budget; needs the ``redis`` extra). ``client.weights`` returns a
:class:`WeightsSnapshot`.
"""

from __future__ import annotations

from ._limiter import WeightsSnapshot, WeightUsage
from ._pools import WeightKind
from ._redis_store import RedisWindowStore
from ._stores import InMemoryWindowStore, ReserveResult, Slot, WindowStore

__all__ = [
    "InMemoryWindowStore",
    "RedisWindowStore",
    "ReserveResult",
    "Slot",
    "WeightKind",
    "WeightUsage",
    "WeightsSnapshot",
    "WindowStore",
]
