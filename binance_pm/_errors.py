"""The exception hierarchy and the one function that picks a class for an error response.

::

    BinanceError
     +-- APIError                 Binance answered with an error (status, code, message)
     |    +-- AuthenticationError  bad signature, key, IP whitelist or permissions (-1002, -1022, ...)
     |    +-- TimestampError       timestamp outside recvWindow (-1021), after one resync and retry
     |    +-- InvalidParameterError  the server rejected a parameter (-1100 ... -1131)
     |    +-- PortfolioMarginError   a Portfolio Margin business rule (-21xxx)
     |    +-- ServerError          5xx or a "busy/unknown" code on an idempotent call, after retries
     +-- RateLimitError           429/418, or the weight budget would not free up within max_wait
     +-- ExecutionUnknownError    a non-idempotent request may or may not have executed
     +-- TransportError           the network failed for an idempotent call, after retries
     +-- InvalidResponseError     a 2xx body that cannot be read as the endpoint's result

No exception text ever carries the query string: it holds the signature and the timestamp.
Messages and headers are scrubbed of anything an echoing proxy could hand back (a ``signature=``
value, an ``X-MBX-APIKEY`` value, cookies), so an exception can be logged, pickled to another
process or stored without carrying a credential or a replayable signed request.

Every exception pickles with all its attributes (a ``ProcessPoolExecutor`` worker's error reaches
the parent intact): unpickling restores ``args`` and the instance dict without calling
``__init__``, whose keyword-only arguments the default exception pickling cannot pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BinanceError",
    "ExecutionUnknownError",
    "InvalidParameterError",
    "InvalidResponseError",
    "PortfolioMarginError",
    "RateLimitError",
    "ServerError",
    "TimestampError",
    "TransportError",
]


# A signed query's signature, also percent-encoded (a page quoting the URL), and an API-key header
# a proxy's debug page may echo: replayable within recvWindow, or a credential outright.
_SIGNATURE = re.compile(r"(signature(?:=|%3D))[^&\s\"'<>;,]+", re.IGNORECASE)
_API_KEY = re.compile(r"(x-mbx-apikey[\"']?\s*[:=]\s*[\"']?)[^\s\"'<>;,&]+", re.IGNORECASE)
# Response headers that carry credentials or session state, not facts about the call.
_DROPPED_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "set-cookie", "x-mbx-apikey"}
)


def _scrub(text: str) -> str:
    """``text`` with any signature or API-key value replaced by ``<redacted>``."""
    if "signature" in text.lower() or "apikey" in text.lower():  # the common case: no regex
        text = _SIGNATURE.sub(r"\1<redacted>", text)
        text = _API_KEY.sub(r"\1<redacted>", text)
    return text


def _safe_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Response headers as a plain dict, minus credentials, with echoed signatures redacted
    (a proxy's ``Location`` may quote the signed URL)."""
    return {
        name: _scrub(value)
        for name, value in (headers or {}).items()
        if name.lower() not in _DROPPED_HEADERS
    }


def _restore(cls: type[BinanceError], args: tuple[Any, ...]) -> BinanceError:
    """Unpickle: the exception without ``__init__``; pickle then restores its ``__dict__``."""
    err = cls.__new__(cls, *args)
    err.args = args
    return err


class BinanceError(Exception):
    """Root of every exception binance_pm raises after arguments were accepted."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(_scrub(a) if isinstance(a, str) else a for a in args))

    def __reduce__(self) -> tuple[Any, ...]:
        # The default, cls(*args), fails for subclasses with required keyword-only arguments.
        # __cause__ and the traceback stay behind, as with any pickled exception.
        return _restore, (type(self), self.args), self.__dict__


class APIError(BinanceError):
    """An error response from Binance.

    ``code`` is Binance's negative error code (None when the body had none, e.g. an HTML page from a
    proxy), ``message`` its ``msg`` or a short excerpt of the body, ``status`` the HTTP status.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: int | None = None,
        method: str = "",
        path: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message = _scrub(message)
        self.status = status
        self.code = code
        self.method = method
        self.path = path
        self.headers: Mapping[str, str] = _safe_headers(headers)
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.path else ""
        code = f" code={self.code}" if self.code is not None else ""
        return f"{where}HTTP {self.status}{code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code}, message={self.message!r})"


class AuthenticationError(APIError):
    """The key, signature, IP whitelist or permissions were refused. Not executed."""


class TimestampError(APIError):
    """``-1021``: the timestamp fell outside recvWindow even after a clock resync. Not executed."""


class InvalidParameterError(APIError):
    """Binance rejected a parameter (codes -1100 to -1131). Not executed."""


class PortfolioMarginError(APIError):
    """A Portfolio Margin business rule refused the request (-21xxx), e.g. no loan to repay."""


class ServerError(APIError):
    """5xx, or a retryable server code (-1000, -1001, -1004, -1008), still failing after retries."""


class RateLimitError(BinanceError):
    """Too much weight: Binance answered 429/418, or the budget would not free up within max_wait.

    ``retry_after`` is the number of seconds until requests may go out again; ``banned`` is True for
    an IP ban (HTTP 418), during which the client sends nothing at all. ``status`` is None when the
    client refused locally, before sending.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        banned: bool = False,
        status: int | None = None,
        code: int | None = None,
    ) -> None:
        self.message = message = _scrub(message)
        self.retry_after = retry_after
        self.banned = banned
        self.status = status
        self.code = code
        super().__init__(message)

    def __str__(self) -> str:
        kind = "IP banned" if self.banned else "rate limited"
        return f"{kind}, retry after {self.retry_after:.3f}s: {self.message}"


class ExecutionUnknownError(BinanceError):
    """A non-idempotent request was (or may have been) sent and its outcome is unknown.

    Raised for a 5xx, a timeout, a broken connection or an "execution status unknown" code
    (-1000, -1006, -1007) after a POST/DELETE that changes state. The request is never retried by the
    client: it may have executed (e.g. a repayment went through). Check the account (history,
    balance) before deciding to send it again.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        code: int | None = None,
    ) -> None:
        self.message = message = _scrub(message)
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        super().__init__(message)

    def __str__(self) -> str:
        extra = "".join(
            f" {k}={v}" for k, v in (("status", self.status), ("code", self.code)) if v is not None
        )
        return (
            f"{self.method} {self.path}: outcome unknown ({self.message}{',' if extra else ''}{extra});"
            " it may have executed: check before resending"
        )


class TransportError(BinanceError):
    """The network failed (connect, reset, timeout) for a request, after any retries allowed."""


class InvalidResponseError(BinanceError):
    """A success response whose body is not what the endpoint returns (not JSON, missing fields)."""


_AUTH_CODES = frozenset({-1002, -1022, -1099, -2014, -2015})
# Codes that mean "the server did not finish, try again": retryable for idempotent calls.
RETRYABLE_CODES = frozenset({-1000, -1001, -1004, -1006, -1007, -1008})
# Codes that mean "it may have executed": unknown outcome for a non-idempotent call.
UNKNOWN_OUTCOME_CODES = frozenset({-1000, -1006, -1007})


def api_error(
    status: int,
    code: int | None,
    message: str,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
) -> APIError:
    """Pick the exception class for an error response from (HTTP status, Binance code)."""
    cls: type[APIError] = APIError
    if code == -1021:
        cls = TimestampError
    elif code in _AUTH_CODES or (status in (401, 403) and code is not None):
        cls = AuthenticationError
    elif code is not None and -1131 <= code <= -1100:
        cls = InvalidParameterError
    elif code is not None and -21999 <= code <= -21000:
        cls = PortfolioMarginError
    elif status >= 500 or code in RETRYABLE_CODES:
        cls = ServerError
    return cls(message, status=status, code=code, method=method, path=path, headers=headers)
