"""ServerClock: one sample to start, lowest round trip in the background, resync policy."""

from __future__ import annotations

import asyncio
import time

import pytest

from binance_pm import Client, RateLimitError, ServerClock, ServerError, TransportError
from binance_pm.testing import FakeBinance, Fault, VirtualTime

from .conftest import ClientFactory

TIME = "/api/v3/time"
PM_LOAN = "/sapi/v1/portfolio/pmLoan"


class SteppedTime:
    """A time source whose wall clock can be stepped apart from its monotonic clock."""

    def __init__(self) -> None:
        self.mono_offset = 0.0
        self.wall_offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.mono_offset

    def wall(self) -> float:
        return time.time() + self.wall_offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def advance(self, seconds: float) -> None:
        self.mono_offset += seconds
        self.wall_offset += seconds


class ManualTime(SteppedTime):
    """Time that moves only when told to."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now


def _time_calls(sim: FakeBinance) -> int:
    return sum(1 for r in sim.requests if r.path == TIME)


async def _settled(client: Client) -> None:
    """Wait for the clock's background sampling to finish."""
    task = client.clock._background
    if task is not None:
        await task


async def test_first_sample_then_refine_keeps_lowest_rtt() -> None:
    """The first sample is adopted at once; a later one replaces it only with a shorter trip."""
    t = ManualTime()
    trips = iter([(1.0, 5_000), (0.2, 100_000), (2.0, 900_000)])  # (round trip, stamp)

    async def fetch() -> int:
        rtt, stamp = next(trips)
        t.now += rtt
        return stamp

    clock = ServerClock(time=t)
    await clock.sync(fetch)
    assert clock.rtt == 1.0 and clock.generation == 1
    assert clock.now_ms() == 5_000 + 500  # the stamp is the midpoint of the trip
    clock.refine(fetch)
    assert clock._background is not None
    await clock._background
    assert clock.rtt == pytest.approx(0.2) and clock.generation == 2
    # Stamp 100000 at the midpoint 1.1, carried forward to now (3.2).
    assert clock.now_ms() == pytest.approx(100_000 + (3.2 - 1.1) * 1000, abs=1)


async def test_first_call_waits_for_one_time_request_only(
    sim: FakeBinance, make_client: ClientFactory
) -> None:
    """Cold start: one server-time round trip before the first call goes, not three."""
    client = make_client()
    await client.account.pm_loan()
    first_call = next(i for i, r in enumerate(sim.requests) if r.path == PM_LOAN)
    assert first_call == 1 and sim.requests[0].path == TIME
    await _settled(client)
    assert _time_calls(sim) == 3  # two more samples in the background


async def test_concurrent_first_calls_share_one_sample(
    sim: FakeBinance, make_client: ClientFactory
) -> None:
    """Fifty concurrent first calls wait for one shared sample, not fifty."""
    client = make_client()
    await asyncio.gather(*(client.account.pm_loan() for _ in range(50)))
    await _settled(client)
    assert _time_calls(sim) == 3
    assert all(r.status == 200 for r in sim.requests)


async def test_periodic_refresh_does_not_hold_calls(
    sim: FakeBinance, make_client: ClientFactory
) -> None:
    """After clock_resync_s the estimate is refreshed in the background; calls go on at once."""
    t = SteppedTime()
    client = make_client(clock_resync_s=60, time_source=t)
    await client.account.pm_loan()
    await _settled(client)
    before = _time_calls(sim)
    t.advance(61)
    sim.skew_ms = 61_000  # the server "moved on" with us
    await client.account.pm_loan()
    assert _time_calls(sim) <= before + 1  # at most the refresh started beside it
    await _settled(client)
    assert _time_calls(sim) > before
    assert client.clock._age() < 1.0  # the refresh was adopted
    assert all(r.status == 200 for r in sim.requests)


async def test_failed_refresh_keeps_a_fresh_enough_estimate(
    sim: FakeBinance, make_client: ClientFactory
) -> None:
    """A failing time endpoint at a refresh fails no signed call while the estimate is under
    max_age old; past that, calls wait for a sample and fail with it."""
    t = SteppedTime()
    client = make_client(clock_resync_s=60, time_source=t)
    await client.account.pm_loan()
    await _settled(client)
    sim.inject(Fault.status_code(503, path=TIME, times=None))
    t.advance(600)
    sim.skew_ms = 600_000
    assert (await client.account.pm_loan()).asset == "BUSD"
    await _settled(client)
    assert (await client.account.pm_loan()).asset == "BUSD"
    t.advance(1800)
    sim.skew_ms = 2_400_000
    with pytest.raises(ServerError):
        await client.account.pm_loan()


async def test_wall_clock_step_waits_for_a_sample(
    sim: FakeBinance, make_client: ClientFactory
) -> None:
    """A wall clock stepped by NTP (or a sleeping laptop) is noticed and resynced, no -1021."""
    t = SteppedTime()
    client = make_client(time_source=t)
    await client.account.pm_loan()
    await _settled(client)
    before = _time_calls(sim)
    t.wall_offset += 10  # the local wall clock jumps; monotonic does not
    await client.account.pm_loan()
    assert _time_calls(sim) >= before + 1
    assert all(r.status == 200 for r in sim.requests)


async def test_wall_clock_drift_does_not_move_timestamps(
    sim: FakeBinance, make_client: ClientFactory
) -> None:
    """Timestamps follow the monotonic anchor, not the wall clock, between samples."""
    t = SteppedTime()
    client = make_client(time_source=t)
    await client.account.pm_loan()
    t.wall_offset += 0.9  # under the jump tolerance: no resync, and no effect on timestamps
    await client.account.pm_loan()
    last = [r for r in sim.requests if r.path == PM_LOAN][-1]
    ts = int(last.query.split("timestamp=")[1].split("&")[0])
    assert abs(ts - last.server_ms) < 200


async def test_minus_1021_resyncs_and_resends_once(sim: FakeBinance, client: Client) -> None:
    """The server clock jumps 20 s after the first sync: one -1021, a resync, then success."""
    await client.account.pm_loan()
    await _settled(client)
    sim.skew_ms += 20_000
    assert (await client.account.pm_loan()).asset == "BUSD"
    statuses = [r.status for r in sim.requests if r.path == PM_LOAN]
    assert statuses == [200, 400, 200]


async def test_stalled_time_endpoint_bounded_by_the_call_timeout(
    sim: FakeBinance, make_client: ClientFactory
) -> None:
    """A time endpoint that never answers: pm_loan(timeout=0.3) fails in about its attempts'
    time (3 x 0.3 s here), and thirty concurrent callers share that one outcome."""
    client = make_client()
    sim.inject(Fault.stall(path=TIME, times=None))
    started = time.monotonic()
    results = await asyncio.gather(
        *(client.account.pm_loan(timeout=0.3) for _ in range(30)), return_exceptions=True
    )
    assert time.monotonic() - started < 2.0
    assert all(isinstance(r, TransportError) for r in results)
    assert _time_calls(sim) == 3  # one request and its two retries, shared by all 30
    assert not any(r.path == PM_LOAN for r in sim.requests)


async def test_ban_is_compared_on_the_server_clock(sim: FakeBinance) -> None:
    """With the server 60 s behind this machine, a 30 s ban still stops server_time()."""
    sim.skew_ms = -60_000
    async with Client(api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
                      time_source=VirtualTime()) as client:
        await client.account.pm_loan()
        await _settled(client)
        sim.inject(Fault.status_code(418, body='{"code":-1003,"msg":"banned"}',
                                     headers={"Retry-After": "30"}, path=PM_LOAN))
        with pytest.raises(RateLimitError):
            await client.account.pm_loan(max_wait=1)
        sent = len(sim.requests)
        with pytest.raises(RateLimitError) as info:
            await client.server_time(max_wait=1)
        assert len(sim.requests) == sent and info.value.banned
        assert 28 < info.value.retry_after <= 30  # not 60 s too long either
