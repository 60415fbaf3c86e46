"""Faults the simulator can inject, one request at a time or until cleared."""

from __future__ import annotations

import enum

import attrs

__all__ = ["Fault", "FaultKind"]


class FaultKind(enum.StrEnum):
    STATUS = "status"  # answer ``status`` with ``body`` (before or after executing)
    RESET = "reset"  # close the connection without an answer (before or after executing)
    TRUNCATE = "truncate"  # execute, start a 200 answer, cut the body off mid-way
    STALL = "stall"  # accept the request and never answer (the client must time out)
    LATENCY = "latency"  # wait ``delay`` seconds, then behave normally


@attrs.define
class Fault:
    """One injected misbehaviour. Build with the class methods; ``times=None`` means forever.

    ``execute`` says whether the request takes effect on the account before the fault hits: the
    case a client can never see from outside, and the one that makes a POST's outcome unknown.
    """

    kind: FaultKind
    path: str | None = None
    method: str | None = None
    status: int = 503
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = attrs.field(factory=dict)
    execute: bool = False
    delay: float = 0.0
    times: int | None = 1

    @classmethod
    def status_code(
        cls,
        status: int,
        *,
        body: bytes | str = b"",
        execute: bool = False,
        path: str | None = None,
        method: str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Answer ``status`` (e.g. 503, or 200 with an error body), executing first if asked."""
        return cls(
            FaultKind.STATUS, path, method, status,
            body.encode() if isinstance(body, str) else body, content_type,
            dict(headers or {}), execute, 0.0, times,
        )

    @classmethod
    def html(cls, status: int, *, execute: bool = False, path: str | None = None,
             times: int | None = 1) -> Fault:
        """An HTML error page as a CDN or WAF sends (403, 502, 504)."""
        page = f"<html><head><title>{status}</title></head><body><h1>{status}</h1>" \
            "<p>cloudfront error</p></body></html>"
        return cls.status_code(status, body=page, execute=execute, path=path,
                               content_type="text/html", times=times)

    @classmethod
    def reset(cls, *, execute: bool = False, path: str | None = None,
              method: str | None = None, times: int | None = 1) -> Fault:
        """Drop the connection with no answer."""
        return cls(FaultKind.RESET, path, method, execute=execute, times=times)

    @classmethod
    def truncate(cls, *, path: str | None = None, method: str | None = None,
                 times: int | None = 1) -> Fault:
        """Execute, then cut the 200 body short (Content-Length promises more)."""
        return cls(FaultKind.TRUNCATE, path, method, execute=True, times=times)

    @classmethod
    def stall(cls, *, execute: bool = False, path: str | None = None,
              method: str | None = None, times: int | None = 1) -> Fault:
        """Never answer."""
        return cls(FaultKind.STALL, path, method, execute=execute, times=times)

    @classmethod
    def latency(cls, seconds: float, *, path: str | None = None, method: str | None = None,
                times: int | None = 1) -> Fault:
        """Answer normally after ``seconds``."""
        return cls(FaultKind.LATENCY, path, method, delay=seconds, times=times)

    def matches(self, method: str, path: str) -> bool:
        return (self.path is None or self.path == path) and (
            self.method is None or self.method == method
        )
