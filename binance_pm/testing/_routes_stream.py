"""Simulated listen-key endpoints of the user data stream (``/fapi/v1/listenKey``).

As Binance: API key header, no signature, IP weight 1; one key per account, so ``POST`` returns
the active key (extended by 60 minutes) when there is one; ``PUT`` for a lapsed key answers -1125.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from ._routes import route
from ._state import AccountState, SimError

__all__ = ["LISTEN_KEY_LIFETIME_MS", "active_key"]

LISTEN_KEY_LIFETIME_MS = 60 * 60 * 1000
_PATH = "/fapi/v1/listenKey"


def active_key(state: AccountState, now: int) -> str | None:
    """The account's listen key if it has not lapsed at server time ``now``."""
    if state.listen_key is not None and state.listen_key_expires_ms > now:
        return state.listen_key
    return None


@route("POST", _PATH, "IP", 1, signed=False)
def create_listen_key(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    if active_key(state, now) is None:
        state.listen_key = secrets.token_hex(32)  # 64 characters, like Binance's
    state.listen_key_expires_ms = now + LISTEN_KEY_LIFETIME_MS
    return {"listenKey": state.listen_key}


@route("PUT", _PATH, "IP", 1, signed=False)
def keepalive_listen_key(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    if active_key(state, now) is None:
        raise SimError(-1125, "This listenKey does not exist.")
    state.listen_key_expires_ms = now + LISTEN_KEY_LIFETIME_MS
    return {}


@route("DELETE", _PATH, "IP", 1, signed=False)
def close_listen_key(state: AccountState, params: Mapping[str, str], now: int) -> Any:
    state.listen_key = None
    state.listen_key_expires_ms = 0
    return {}
