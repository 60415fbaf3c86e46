"""binance_pm: an async client for Binance Portfolio Margin Pro (``/sapi/v*/portfolio/*``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._catalogue import EarnAsset, EarnTransferType, FutureType, RepaySource, TransferSide
from ._client import Client
from ._clock import ServerClock
from ._config import NOT_GIVEN, RetryPolicy, Timeout
from ._endpoints import Endpoint, Param, Weight
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
from ._models import (
    AccountInfo,
    AccountStatus,
    AccountType,
    Ack,
    AssetIndexPrice,
    AssetLeverage,
    AutoRepayFuturesStatus,
    Balance,
    BnbTransferResult,
    CollateralRate,
    CollateralTier,
    DeltaMode,
    EarnAssetBalance,
    InterestRecord,
    MarginCallLevel,
    PmLoan,
    RepayHistoryPage,
    RepayRecord,
    RepayResult,
    RiskUnitMaintenance,
    SpanAccountInfo,
    TieredCollateralRate,
)
from ._signing import Ed25519Signer, HmacSigner, RsaSigner, Signer
from ._stream import UserStream
from ._stream_models import (
    AccountUpdate,
    GapReason,
    RiskLevel,
    RiskLevelChange,
    StreamGap,
    UnknownEvent,
)
from ._time import SystemTime, TimeSource
from .limits import WeightKind, WeightsSnapshot, WeightUsage

try:
    __version__ = version("binance-pm")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "APIError",
    "AccountInfo",
    "AccountStatus",
    "AccountType",
    "AccountUpdate",
    "Ack",
    "AssetIndexPrice",
    "AssetLeverage",
    "AuthenticationError",
    "AutoRepayFuturesStatus",
    "Balance",
    "BinanceError",
    "BnbTransferResult",
    "Client",
    "CollateralRate",
    "CollateralTier",
    "DeltaMode",
    "EarnAsset",
    "EarnAssetBalance",
    "EarnTransferType",
    "Ed25519Signer",
    "Endpoint",
    "ExecutionUnknownError",
    "FutureType",
    "GapReason",
    "HmacSigner",
    "InterestRecord",
    "InvalidParameterError",
    "InvalidResponseError",
    "MarginCallLevel",
    "NOT_GIVEN",
    "Param",
    "PmLoan",
    "PortfolioMarginError",
    "RateLimitError",
    "RepayHistoryPage",
    "RepayRecord",
    "RepayResult",
    "RepaySource",
    "RetryPolicy",
    "RiskLevel",
    "RiskLevelChange",
    "RiskUnitMaintenance",
    "RsaSigner",
    "ServerClock",
    "ServerError",
    "Signer",
    "SpanAccountInfo",
    "StreamGap",
    "SystemTime",
    "TieredCollateralRate",
    "TimeSource",
    "Timeout",
    "TimestampError",
    "TransferSide",
    "TransportError",
    "UnknownEvent",
    "UserStream",
    "Weight",
    "WeightKind",
    "WeightUsage",
    "WeightsSnapshot",
    "__version__",
]
