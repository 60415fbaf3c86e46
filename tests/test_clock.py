"""ServerClock: min-RTT midpoint sync, monotonic anchoring, resync policy."""

from __future__ import annotations

import time

import pytest

from binance_pm import ServerClock
from binance_pm.testing import FakeBinance

from .conftest import ClientFactory

TIME = "/api/v3/time"


class FakeTime:
    """A controllable clock pair: monotonic and wall advance together unless told otherwise."""

    def __init__(self) -> None:
        self.mono_offset = 0.0
        self.wall_offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.mono_offset

    def wall(self) -> float:
        return time.time() + self.wall_offset


def _time_calls(sim: FakeBinance) -> int:
    return sum(1 for r in sim.requests if r.path == TIME)


async def test_sync_takes_lowest_rtt_sample() -> None:
    """Of several samples the one with the smallest round trip sets the estimate."""
    ticks = iter([0.0, 1.0, 10.0, 10.2, 20.0, 22.0, 30.0, 30.0])
    answers = iter([5_000, 100_000, 900_000])
    clock = ServerClock(fetch=lambda: _value(next(answers)), samples=3,
                        monotonic=lambda: next(ticks), wall=lambda: 0.0)
    await clock.ensure_synced()
    # Best sample: sent 10.0, received 10.2, stamp 100000 at midpoint 10.1; anchored at 30.0.
    assert clock.rtt == pytest.approx(0.2)
    assert clock._anchor_server_ms == pytest.approx(100_000 + (30.0 - 10.1) * 1000)


async def _value(v: int) -> int:
    return v


async def test_periodic_resync(fake_binance: FakeBinance, make_client: ClientFactory) -> None:
    """After clock_resync_s of monotonic time the next call resyncs first."""
    t = FakeTime()
    client = make_client(clock_resync_s=60, monotonic=t.monotonic, wall_clock=t.wall)
    await client.account.pm_loan()
    first = _time_calls(fake_binance)
    await client.account.pm_loan()
    assert _time_calls(fake_binance) == first  # fresh: no resync
    t.mono_offset += 61
    t.wall_offset += 61
    fake_binance.skew_ms = 61_000  # the server "moved on" with us
    await client.account.pm_loan()
    assert _time_calls(fake_binance) == 2 * first
    assert [r.status for r in fake_binance.requests if r.path != TIME] == [200, 200, 200]


async def test_wall_clock_step_triggers_resync(fake_binance: FakeBinance, make_client: ClientFactory) -> None:
    """A wall clock stepped by NTP (or a sleeping laptop) is noticed and resynced, no -1021."""
    t = FakeTime()
    client = make_client(monotonic=t.monotonic, wall_clock=t.wall)
    await client.account.pm_loan()
    first = _time_calls(fake_binance)
    t.wall_offset += 10  # the local wall clock jumps; monotonic does not
    await client.account.pm_loan()
    assert _time_calls(fake_binance) == 2 * first
    assert all(r.status == 200 for r in fake_binance.requests)


async def test_wall_clock_drift_does_not_move_timestamps(
    fake_binance: FakeBinance, make_client: ClientFactory
) -> None:
    """Timestamps follow the monotonic anchor, not the wall clock, between syncs."""
    t = FakeTime()
    client = make_client(monotonic=t.monotonic, wall_clock=t.wall)
    await client.account.pm_loan()
    t.wall_offset += 0.9  # under the jump tolerance: no resync, and no effect on timestamps
    await client.account.pm_loan()
    last = [r for r in fake_binance.requests if r.path != TIME][-1]
    ts = int(last.query.split("timestamp=")[1].split("&")[0])
    assert abs(ts - last.server_ms) < 200


async def test_concurrent_first_calls_share_one_sync(
    fake_binance: FakeBinance, make_client: ClientFactory
) -> None:
    """Fifty concurrent first calls trigger one sync (three samples), not fifty."""
    import asyncio

    client = make_client()
    await asyncio.gather(*(client.account.pm_loan() for _ in range(50)))
    assert _time_calls(fake_binance) == 3


async def test_minus_1021_right_after_first_sync_still_resyncs(
    fake_binance: FakeBinance, client: object
) -> None:
    """The server clock jumps between the first sync and the first request: resync, retry, ok."""
    from binance_pm import Client

    assert isinstance(client, Client)
    original = fake_binance.now_ms

    def now_ms() -> int:
        # Three time samples at the true time; from then on the server clock is 20 s ahead.
        return original() + (20_000 if _time_calls(fake_binance) >= 3 else 0)

    fake_binance.now_ms = now_ms  # type: ignore[method-assign]
    assert (await client.account.pm_loan()).asset == "BUSD"
    statuses = [r.status for r in fake_binance.requests if r.path != TIME]
    assert statuses == [400, 200]
    assert _time_calls(fake_binance) == 6
