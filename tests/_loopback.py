"""A fixture that makes any lookup of a host other than 127.0.0.1/localhost fail the test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

_LOCAL = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """aiohttp resolves every host through socket.getaddrinfo: refuse, and record, the others."""
    refused: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in _LOCAL:
            refused.append(name)
            raise OSError(f"test tried to reach {name}: tests stay on 127.0.0.1")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield refused
    assert refused == [], f"tried to reach {refused}"
