"""How Binance reads a request before executing it: parameters, signature, timestamp.

Pure functions over the request's raw parts (``binance-pm-pro-api.md`` 1.3 to 1.6), each raising
:class:`SimError` with the code Binance answers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from ._routes import Route
from ._state import SimError

__all__ = ["SECURITY_PARAMS", "check_params", "check_signature", "check_timestamp", "read_params"]

SECURITY_PARAMS = ("timestamp", "recvWindow", "signature")


def read_params(raw_query: str, form: str) -> dict[str, str]:
    """Query and form body; a name twice in one part is -1101, in both the query's value wins."""
    params: dict[str, str] = {}
    for part in (form, raw_query):  # the query last, so its values replace the body's
        seen: set[str] = set()
        for name, value in parse_qsl(part, keep_blank_values=True):
            if name in seen:
                raise SimError(-1101, f"Duplicate values for parameter '{name}'.")
            seen.add(name)
            params[name] = value
    return params


def check_signature(hmac_secrets: Mapping[str, str], public_keys: Mapping[str, Any], key: str,
                    raw_query: str, form: str, params: Mapping[str, str]) -> None:
    """-1022 unless ``signature`` signs query + form (each without it) for ``key``."""
    if "signature" not in params:
        raise SimError(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, "
                       "or malformed.")
    # Binance signs query + body concatenated, each without its signature pair.
    payload = _strip_signature(raw_query) + _strip_signature(form)
    signature = params["signature"]
    secret = hmac_secrets.get(key)
    if secret is not None:
        expected = hmac.new(secret.encode(), payload.encode("latin-1"), hashlib.sha256)
        if hmac.compare_digest(expected.hexdigest(), signature.lower()):
            return
    elif key in public_keys and _verify(public_keys[key], payload.encode("latin-1"),
                                        signature):
        return
    raise SimError(-1022, "Signature for this request is not valid.")


def check_timestamp(params: Mapping[str, str], now: int) -> None:
    """-1021 outside ``recvWindow`` or 1000 ms ahead; -1131 for a bad ``recvWindow``."""
    try:
        ts = int(params["timestamp"])
        recv_window = int(params.get("recvWindow", "5000"))
    except (KeyError, ValueError):
        raise SimError(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, "
                       "or malformed.") from None
    if recv_window > 60_000 or recv_window <= 0:
        raise SimError(-1131, "recvWindow must be less than 60000")
    if ts >= now + 1000:
        raise SimError(-1021, "Timestamp for this request was 1000ms ahead of the server's "
                       "time.")
    if now - ts > recv_window:
        raise SimError(-1021, "Timestamp for this request is outside of the recvWindow.")


def check_params(rt: Route, params: Mapping[str, str]) -> None:
    """-1104 for a parameter the route does not read, -1102 for a missing required one."""
    for name in params:
        if name not in rt.params:
            raise SimError(-1104, f"Not all sent parameters were read; read "
                           f"{len(rt.params)} parameter(s) but was sent {len(params)}.")
    for name in rt.required:
        if not params.get(name):
            raise SimError(-1102, f"Mandatory parameter '{name}' was not sent, was "
                           "empty/null, or malformed.")


def _strip_signature(part: str) -> str:
    if "signature=" not in part:
        return part
    return "&".join(p for p in part.split("&") if not p.startswith("signature="))


def _verify(public_key: Any, payload: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        # parse_qsl decoded the parameter once, as Binance does; decoding again would accept a
        # signature percent-encoded twice, which Binance refuses.
        raw = base64.b64decode(signature, validate=True)
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(raw, payload)
        else:
            public_key.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
