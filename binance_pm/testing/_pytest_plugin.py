"""pytest plugin (auto-loaded): the ``fake_binance`` fixture, when pytest-asyncio is installed."""

from __future__ import annotations

from collections.abc import AsyncIterator

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - the fixture needs pytest-asyncio
    pass
else:
    from ._server import FakeBinance

    @pytest_asyncio.fixture
    async def fake_binance() -> AsyncIterator[FakeBinance]:
        """A started :class:`FakeBinance` on 127.0.0.1, closed after the test."""
        async with FakeBinance() as sim:
            yield sim
