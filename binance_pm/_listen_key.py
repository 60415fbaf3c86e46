"""The listen-key calls of the user data stream, as endpoint specs sent through the session.

They live on the USDⓈ-M futures host (``/fapi``), carry the API key header but no signature, and
cost IP weight 1 each. Binance keeps one key per account: ``POST`` hands back the active key (and
extends it) when there is one, so repeating it is harmless and the spec is marked idempotent.
"""

from __future__ import annotations

from typing import Any

from ._endpoints import Endpoint, Weight
from ._models import text
from ._secret import Secret
from .limits import WeightKind

__all__ = [
    "CLOSE_LISTEN_KEY", "CREATE_LISTEN_KEY", "KEEPALIVE_LISTEN_KEY", "KEY_GONE", "listen_key", "nothing",
]

_PATH = "/fapi/v1/listenKey"
_WEIGHT = Weight(WeightKind.IP, 1)

CREATE_LISTEN_KEY = Endpoint("create_listen_key", "POST", _PATH, _WEIGHT, signed=False,
                             idempotent=True)
KEEPALIVE_LISTEN_KEY = Endpoint("keepalive_listen_key", "PUT", _PATH, _WEIGHT, signed=False,
                                idempotent=True)
CLOSE_LISTEN_KEY = Endpoint("close_listen_key", "DELETE", _PATH, _WEIGHT, signed=False)

KEY_GONE = -1125  # "This listenKey does not exist.": a PUT after the key lapsed


def listen_key(data: Any) -> Secret[str]:
    """The key from POST's answer, boxed at once: it is a bearer credential for the stream."""
    return Secret(text(data["listenKey"]))


def nothing(data: Any) -> None:
    """PUT and DELETE answer ``{}``."""
    return None
