"""What comes back from aiohttp: the one error mapping around the aiohttp call ("never left" vs
"may have reached Binance"), the response record, and its body read as exact JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

import aiohttp

from ._errors import BinanceError

__all__ = ["ErrorMap", "MaybeSent", "NotSent", "Response", "decode", "describe", "excerpt"]

EXCERPT = 200

# aiohttp's exceptions for a request that never left this machine: no connection was made (refused,
# DNS, TLS, a certificate or fingerprint mismatch, connect timeout) or the URL could not be built.
NOT_SENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
    aiohttp.ServerFingerprintMismatch,
    aiohttp.InvalidURL,
)
# Everything else aiohttp (or the socket under it) raises once the request was handed over.
MAYBE_SENT: tuple[type[BaseException], ...] = (aiohttp.ClientError, OSError, ValueError)

JSON = json.JSONDecoder(parse_float=Decimal)


class Response(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes


class NotSent(Exception):
    """The request never left this machine: always safe to send again."""


class MaybeSent(Exception):
    """The request may have reached Binance (reset, timeout, truncated answer)."""


def describe(err: BaseException) -> str:
    # aiohttp's texts may hold the URL with its signed query: keep the type and what precedes "?".
    text = str(err).split("?", 1)[0].strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def excerpt(body: bytes) -> str:
    text = body[:EXCERPT].decode("utf-8", "replace").strip()
    return " ".join(text.split()) or "(empty body)"


def decode(body: bytes) -> Any:
    """JSON with exact decimals; ValueError for anything that is not (deep nesting included)."""
    try:
        return JSON.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
    except (ValueError, RecursionError, ArithmeticError) as err:
        raise ValueError(f"not JSON ({type(err).__name__})") from None


class ErrorMap:
    """aiohttp's exceptions -> "never left" or "may have reached Binance", with no chained
    foreign exception (their texts can carry the signed URL)."""

    __slots__ = ()

    def __enter__(self) -> None:
        pass

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc is None or isinstance(exc, BinanceError | asyncio.CancelledError):
            return
        if isinstance(exc, NOT_SENT):
            raise NotSent(describe(exc)) from None
        if isinstance(exc, TimeoutError):
            raise MaybeSent("TimeoutError: no response within the timeout") from None
        if isinstance(exc, MAYBE_SENT):
            raise MaybeSent(describe(exc)) from None
