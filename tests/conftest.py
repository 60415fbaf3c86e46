"""Shared fixtures: a simulator on 127.0.0.1 and clients pointed at it (no other network)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from binance_pm import Client, RetryPolicy
from binance_pm.testing import FakeBinance

from ._redis_proc import RedisProcess, RedisUnavailable, free_port

ClientFactory = Callable[..., Client]


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as server:
        yield server


@pytest_asyncio.fixture
async def make_client(sim: FakeBinance) -> AsyncIterator[ClientFactory]:
    """Build clients against ``sim`` (fast retries); all are closed after the test."""
    made: list[Client] = []

    def factory(**kwargs: Any) -> Client:
        kwargs.setdefault("api_key", sim.api_key)
        if "private_key" not in kwargs:
            kwargs.setdefault("api_secret", sim.api_secret)
        kwargs.setdefault("base_url", sim.base_url)
        kwargs.setdefault("retry", RetryPolicy(max_retries=2, base=0.001, cap=0.005))
        client = Client(**kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.close()


@pytest_asyncio.fixture
async def client(make_client: ClientFactory) -> Client:
    return make_client()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def redis_proc() -> Iterator[RedisProcess]:
    """A private redis-server on a free loopback port that the test may SIGSTOP, SIGKILL and
    restart (see tests/_redis_proc.py); killed after the test. Never the shared CI server."""
    try:
        proc = RedisProcess()
    except RedisUnavailable:
        if os.environ.get("CI"):
            pytest.fail("the Redis fault tests need redis-server on PATH")
        pytest.skip("no redis-server on PATH")
    for _ in range(3):  # the free port may be taken between choosing it and binding it
        try:
            proc.start()
            break
        except RuntimeError:
            proc.port = free_port()
    else:
        pytest.fail("could not start a private redis-server")
    try:
        yield proc
    finally:
        proc.stop()
