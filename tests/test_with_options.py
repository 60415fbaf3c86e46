"""with_options(): other per-call defaults on a copy that shares pool, clock and weight books."""

from __future__ import annotations

import pytest

from binance_pm import Client, RetryPolicy, Timeout, WeightKind
from binance_pm.testing import FakeBinance

from .conftest import ClientFactory

PM_LOAN = "/sapi/v1/portfolio/pmLoan"
TIME = "/api/v3/time"


async def test_copy_sends_its_own_defaults_and_leaves_the_original_alone(
    client: Client, sim: FakeBinance
) -> None:
    patient = client.with_options(recv_window=10_000)
    await patient.account.pm_loan()
    await client.account.pm_loan()
    windows = [r.query.split("&")[0] for r in sim.requests if r.path == PM_LOAN]
    assert windows == ["recvWindow=10000", "recvWindow=5000"]


async def test_copy_shares_pool_clock_and_weight_books(client: Client, sim: FakeBinance) -> None:
    await client.account.pm_loan()
    generation = client.clock.generation
    copy = client.with_options(max_wait=30.0)
    assert copy.clock is client.clock
    await copy.account.pm_loan()
    # The copy found the clock synced: no time request waited for (at most the background ones).
    assert sum(1 for r in sim.requests if r.path == TIME) <= 3
    assert client.clock.generation >= generation
    (bucket,) = [b for b in client.weights.buckets if b.kind is WeightKind.UID]
    assert bucket.used == 1000  # the copy's call is in the original's books
    assert copy._session._http() is client._session._http()  # one connection pool


async def test_closing_the_copy_keeps_the_original_open(client: Client) -> None:
    copy = client.with_options(timeout=Timeout(total=3.0, connect=1.0))
    await copy.account.pm_loan()
    await copy.close()
    assert copy.closed and not client.closed
    with pytest.raises(RuntimeError, match="closed"):
        await copy.account.pm_loan()
    assert (await client.account.pm_loan()).asset == "BUSD"


async def test_closing_the_original_stops_the_copy(make_client: ClientFactory, sim: FakeBinance) -> None:
    client = make_client()
    copy = client.with_options(retry=RetryPolicy(max_retries=0))
    await client.close()
    assert copy.closed
    with pytest.raises(RuntimeError, match="closed"):
        await copy.account.pm_loan()
    with pytest.raises(RuntimeError, match="closed"):
        client.with_options(recv_window=6000)
    assert not any(r.path == PM_LOAN for r in sim.requests)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"recv_window": 0}, ValueError),
        ({"recv_window": 60_001}, ValueError),
        ({"timeout": -1}, ValueError),
        ({"timeout": "5"}, TypeError),
        ({"max_wait": -0.5}, ValueError),
        ({"retry": 3}, TypeError),
    ],
)
async def test_bad_options_refused_at_once(
    client: Client, sim: FakeBinance, options: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        client.with_options(**options)  # type: ignore[arg-type]
    assert sim.requests == []


@pytest.mark.parametrize("max_wait", [-1, float("nan"), "5", True])
def test_client_refuses_bad_max_wait(max_wait: object) -> None:
    """The constructor and with_options() share one max_wait check."""
    with pytest.raises(ValueError, match="max_wait"):
        Client(api_key="k", api_secret="s", max_wait=max_wait)  # type: ignore[arg-type]
