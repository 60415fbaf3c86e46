"""The listen key (a bearer credential for the stream) and the API key never show anywhere.

Checked at DEBUG level for every logger, across the paths that handle the key: creation, a
listenKeyExpired event that carries it, a refused connect to a URL that contains it, a malformed
frame quoting it, and an entry refused for a bad API key.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

import pytest

from binance_pm import AuthenticationError, Client, RetryPolicy, StreamGap
from binance_pm.testing import FakeBinance

from ._loopback import loopback_only

pytestmark = pytest.mark.usefixtures("loopback_only")
__all__ = ["loopback_only"]  # imported so that pytest finds the fixture here

BAD_API_KEY = "api-key-that-must-not-leak-0123"


async def _gap(stream: Any) -> StreamGap:
    async with asyncio.timeout(5):
        async for event in stream:
            if isinstance(event, StreamGap):
                return event
    raise AssertionError("stream ended")


async def test_keys_never_logged_or_printed(caplog: pytest.LogCaptureFixture) -> None:
    """Keys seen by the server over a whole faulty session appear in no log line and no repr."""
    caplog.set_level(logging.DEBUG)
    keys: set[str] = set()
    async with FakeBinance() as sim, Client(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
        futures_url=sim.base_url, stream_url=sim.stream.url,
        retry=RetryPolicy(max_retries=1, base=0.001, cap=0.002),
    ) as client:
        sim.stream.cadence = 0.05
        stream = client.user_stream(heartbeat_timeout=0.5, keepalive_interval=0.2)
        async with stream:
            key = sim.state.listen_key
            assert key is not None
            keys.add(key)
            await sim.stream.push('{"e": "listenKeyExpired", "listenKey": "' + key + '"')  # cut short
            await sim.stream.expire_key()  # listenKeyExpired with the key in it
            gaps = [await _gap(stream)]
            assert sim.state.listen_key is not None
            keys.add(sim.state.listen_key)
            await sim.stream.expire_key(notify=False)
            sim.stream.drop()  # the reconnect to the old key's URL is refused
            gaps.append(await _gap(stream))
            assert sim.state.listen_key is not None
            keys.add(sim.state.listen_key)
            shown = [repr(stream), str(stream), repr(client), *map(repr, gaps)]
        shown.append(repr(stream))
    assert len(keys) == 3
    text = caplog.text + "\n".join(shown)
    assert "malformed" in caplog.text and "listenKeyExpired" in caplog.text
    assert "handshake refused" in caplog.text  # the path whose aiohttp error quotes the URL
    for secret in (*keys, sim.api_key, sim.api_secret):
        assert secret not in text


async def test_refused_api_key_error_is_clean() -> None:
    """Entry refused for the API key: the error, its chain and its traceback locals hold no key."""
    async with FakeBinance() as sim, Client(
        api_key=BAD_API_KEY, api_secret=sim.api_secret, base_url=sim.base_url,
        futures_url=sim.base_url, stream_url=sim.stream.url,
    ) as client:
        with pytest.raises(AuthenticationError) as info:
            async with client.user_stream():
                pass
    err: BaseException | None = info.value
    rendered = "".join(
        traceback.TracebackException.from_exception(info.value, capture_locals=True).format()
    )
    assert BAD_API_KEY not in rendered
    while err is not None:
        assert BAD_API_KEY not in f"{err!s} {err!r}"
        err = err.__cause__ or err.__context__
