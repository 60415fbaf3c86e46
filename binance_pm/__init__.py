"""binance_pm: an async client for Binance Portfolio Margin Pro (``/sapi/v*/portfolio/*``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._catalogue import RepaySource
from ._client import Client
from ._clock import ServerClock
from ._config import NOT_GIVEN, RetryPolicy, Timeout
from ._errors import (
    APIError,
    AuthenticationError,
    BinanceError,
    ExecutionUnknownError,
    InvalidParameterError,
    InvalidResponseError,
    PortfolioMarginError,
    RateLimitError,
    ServerError,
    TimestampError,
    TransportError,
)
from ._models import PmLoan, RepayResult
from ._signing import Ed25519Signer, HmacSigner, RsaSigner, Signer
from .limits import WeightKind, WeightsSnapshot, WeightUsage

try:
    __version__ = version("binance-pm")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "APIError",
    "AuthenticationError",
    "BinanceError",
    "Client",
    "Ed25519Signer",
    "ExecutionUnknownError",
    "HmacSigner",
    "InvalidParameterError",
    "InvalidResponseError",
    "NOT_GIVEN",
    "PmLoan",
    "PortfolioMarginError",
    "RateLimitError",
    "RepayResult",
    "RepaySource",
    "RetryPolicy",
    "RsaSigner",
    "ServerClock",
    "ServerError",
    "Signer",
    "Timeout",
    "TimestampError",
    "TransportError",
    "WeightKind",
    "WeightUsage",
    "WeightsSnapshot",
    "__version__",
]
