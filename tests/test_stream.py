"""The user data stream through aiohttp against the simulator: events, faults, recovery, lifecycle.

Short intervals (updates every 50 ms, heartbeat timeouts of 0.3-1 s) keep each test within
a second or two; every recovery is checked to yield exactly one StreamGap with a snapshot.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio

from binance_pm import (
    AccountInfo,
    AccountUpdate,
    AuthenticationError,
    Client,
    GapReason,
    RiskLevel,
    RiskLevelChange,
    StreamGap,
    UnknownEvent,
    UserStream,
)
from binance_pm.testing import FakeBinance, Fault, VirtualTime

from ._loopback import loopback_only
from .conftest import ClientFactory

pytestmark = pytest.mark.usefixtures("loopback_only")
__all__ = ["loopback_only"]  # imported so that pytest finds the fixture here

KEY_PATH = "/fapi/v1/listenKey"
FAST: dict[str, Any] = {"heartbeat_timeout": 1.0}  # short, yet no false alarm under load


@pytest_asyncio.fixture
async def client(fake_binance: FakeBinance, make_client: ClientFactory) -> Client:
    fake_binance.stream.cadence = 0.05
    return make_client(stream_url=fake_binance.stream.url, futures_url=fake_binance.base_url)


async def next_event(stream: UserStream, timeout: float = 5.0) -> Any:
    async with asyncio.timeout(timeout):
        return await anext(stream)


async def take(stream: UserStream, n: int, timeout: float = 5.0) -> list[Any]:
    return [await next_event(stream, timeout) for _ in range(n)]


async def until_gap(stream: UserStream, timeout: float = 5.0) -> tuple[list[Any], StreamGap]:
    """Events up to and including the first StreamGap."""
    seen: list[Any] = []
    async with asyncio.timeout(timeout):
        async for event in stream:
            if isinstance(event, StreamGap):
                return seen, event
            seen.append(event)
    raise AssertionError("stream ended")


def calls(sim: FakeBinance, method: str) -> list[Any]:
    return [r for r in sim.requests if r.path == KEY_PATH and r.method == method]


def assert_repaired(gap: StreamGap, reason: GapReason) -> None:
    assert gap.reason is reason
    assert isinstance(gap.snapshot, AccountInfo) and gap.snapshot_error is None
    assert gap.since <= gap.until


async def test_events_typed_and_exact(client: Client, fake_binance: FakeBinance) -> None:
    """Account updates from the account state and a pushed riskLevelChange arrive typed, exact."""
    fake_binance.state.account["uniMMR"] = "1.23456789012345678901"
    async with client.user_stream(**FAST) as stream:
        update = await next_event(stream)
        await fake_binance.stream.push_risk_level("REDUCE_ONLY", uni_mmr="1.1")
        risk = next(x for x in await take(stream, 3) if isinstance(x, RiskLevelChange))
    assert isinstance(update, AccountUpdate)
    assert update.uni_mmr == Decimal("1.23456789012345678901")
    assert update.available_balance == Decimal("122559.90199491")
    assert risk.level is RiskLevel.REDUCE_ONLY and risk.uni_mmr == Decimal("1.1")
    assert risk.maintenance_margin == Decimal("23.72469206")


async def test_listen_key_is_unsigned_and_weighed(client: Client, fake_binance: FakeBinance) -> None:
    """POST /fapi/v1/listenKey carries the API key header, no signature, and costs 1 in /fapi's pool."""
    async with client.user_stream(**FAST) as stream:
        await next_event(stream)
    (post,) = calls(fake_binance, "POST")
    assert post.query == "" and post.body == b""
    assert post.headers["X-MBX-APIKEY"] == fake_binance.api_key
    assert fake_binance.used("IP", KEY_PATH) == 1
    (usage,) = [b for b in client.weights.buckets if b.key == "IP:/fapi"]
    assert (usage.used, usage.limit) == (1, 2400)  # the futures host's shared IP pool


async def test_abrupt_drop_recovered_with_one_gap(client: Client, fake_binance: FakeBinance) -> None:
    """A reset socket: one StreamGap (dropped) with a snapshot, a new socket within 3 s."""
    async with client.user_stream(**FAST) as stream:
        await next_event(stream)
        dropped = time.monotonic()
        fake_binance.stream.drop()
        _, gap = await until_gap(stream)
        assert time.monotonic() - dropped < 3.0
        after = await take(stream, 5)
    assert_repaired(gap, GapReason.DROPPED)
    assert not any(isinstance(e, StreamGap) for e in after)
    assert fake_binance.stream.connections_opened == 2
    assert len(calls(fake_binance, "POST")) == 1  # a plain drop keeps the key


async def test_silent_socket_replaced(client: Client, fake_binance: FakeBinance) -> None:
    """Open but silent (a dead peer) for heartbeat_timeout: aborted at once, replaced, one gap."""
    async with client.user_stream(heartbeat_timeout=0.3) as stream:
        await next_event(stream)
        fake_binance.stream.go_silent()
        went_silent = time.monotonic()
        _, gap = await until_gap(stream)
        waited = time.monotonic() - went_silent
        await take(stream, 3)
    assert_repaired(gap, GapReason.SILENT)
    # Aborted, not closed politely: waiting for the dead peer's close frame would add 2 s.
    assert 0.25 <= waited < 1.5
    assert fake_binance.stream.connections_opened == 2


async def test_pings_count_as_life(client: Client, fake_binance: FakeBinance) -> None:
    """No events but pings more often than heartbeat_timeout: the socket is kept, no gap."""
    fake_binance.stream.cadence = None
    fake_binance.stream.ping_interval = 0.1
    async with client.user_stream(heartbeat_timeout=0.4) as stream:
        await asyncio.sleep(1.2)
        await fake_binance.stream.push({"e": "uniMMRDrop", "E": fake_binance.now_ms()})
        event = await next_event(stream)
    assert isinstance(event, UnknownEvent)
    assert fake_binance.stream.connections_opened == 1


async def test_listen_key_expired_event(client: Client, fake_binance: FakeBinance) -> None:
    """listenKeyExpired: handled inside (not yielded): a new key, a new socket, one gap."""
    async with client.user_stream(**FAST) as stream:
        await next_event(stream)
        old_key = fake_binance.state.listen_key
        await fake_binance.stream.expire_key()
        before, gap = await until_gap(stream)
        await take(stream, 3)
    assert_repaired(gap, GapReason.KEY_EXPIRED)
    assert all(isinstance(e, AccountUpdate) for e in before)
    assert fake_binance.state.listen_key != old_key
    assert len(calls(fake_binance, "POST")) == 2


async def test_keepalive_minus_1125_makes_new_key(client: Client, fake_binance: FakeBinance) -> None:
    """A key lapsed without a word: the next PUT gets -1125, a new key and socket follow."""
    async with client.user_stream(keepalive_interval=0.3, heartbeat_timeout=5.0) as stream:
        await next_event(stream)
        await fake_binance.stream.expire_key(notify=False)
        _, gap = await until_gap(stream)
        await take(stream, 3)
    assert_repaired(gap, GapReason.KEY_EXPIRED)
    assert any(r.status == 400 for r in calls(fake_binance, "PUT"))
    assert len(calls(fake_binance, "POST")) == 2


async def test_refused_connect_then_recovered(client: Client, fake_binance: FakeBinance) -> None:
    """A drop, then two refused connects: retried with back-off, still exactly one gap."""
    async with client.user_stream(**FAST) as stream:
        await next_event(stream)
        fake_binance.stream.refuse(2)
        fake_binance.stream.drop()
        _, gap = await until_gap(stream)
        after = await take(stream, 5)
    assert_repaired(gap, GapReason.DROPPED)
    assert not any(isinstance(e, StreamGap) for e in after)
    assert fake_binance.stream.connections_opened == 2


async def test_refused_at_start(client: Client, fake_binance: FakeBinance) -> None:
    """The first connect refused: entering still works, a gap (refused) from the start comes first."""
    fake_binance.stream.refuse(1)
    entered = time.time()
    async with client.user_stream(**FAST) as stream:
        gap = await next_event(stream)
        await take(stream, 2)
    assert isinstance(gap, StreamGap)
    assert_repaired(gap, GapReason.REFUSED)
    assert abs(gap.since.timestamp() - entered) < 1.0


async def test_expired_key_refused_connect_gets_new_key(client: Client, fake_binance: FakeBinance) -> None:
    """The key lapsed silently and the socket dropped: the reconnect is refused, a new key fixes it."""
    async with client.user_stream(**FAST) as stream:
        await next_event(stream)
        old_key = fake_binance.state.listen_key
        await fake_binance.stream.expire_key(notify=False)
        fake_binance.stream.drop()
        _, gap = await until_gap(stream)
        await take(stream, 3)
    assert_repaired(gap, GapReason.DROPPED)
    assert fake_binance.state.listen_key != old_key


async def test_snapshot_failure_gives_none_with_reason(client: Client, fake_binance: FakeBinance) -> None:
    """The REST snapshot after reconnecting fails: the gap still comes, snapshot None with why."""
    async with client.user_stream(**FAST) as stream:
        await next_event(stream)
        fake_binance.inject(Fault.status_code(400, body='{"code":-1000,"msg":"boom"}',
                                     path="/sapi/v1/portfolio/account", times=None))
        fake_binance.stream.drop()
        _, gap = await until_gap(stream)
        fake_binance.faults.clear()
    assert gap.snapshot is None and gap.snapshot_error is not None
    assert "boom" in gap.snapshot_error


async def test_unknown_event_and_malformed_frames(
    client: Client, fake_binance: FakeBinance, caplog: pytest.LogCaptureFixture
) -> None:
    """Malformed frames are logged and skipped on the same socket; an unknown type is delivered."""
    fake_binance.stream.cadence = None
    async with client.user_stream(heartbeat_timeout=5.0) as stream:
        await fake_binance.stream.push("not json at all")
        await fake_binance.stream.push('["an", "array"]')
        await fake_binance.stream.push({"e": "riskLevelChange", "E": 1, "u": "x"})
        await fake_binance.stream.push({"e": "uniMMRDrop", "E": 2, "drop": "0.06"})
        event = await next_event(stream)
    assert isinstance(event, UnknownEvent) and event.type == "uniMMRDrop"
    assert event.raw["drop"] == "0.06"
    skipped = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(skipped) == 3
    assert fake_binance.stream.connections_opened == 1


async def test_keepalive_at_interval(client: Client, fake_binance: FakeBinance) -> None:
    """PUT every keepalive_interval, the first one interval after the POST; never a POST."""
    async with client.user_stream(keepalive_interval=0.25, **FAST):
        await asyncio.sleep(1.2)
    (post,) = calls(fake_binance, "POST")
    puts = calls(fake_binance, "PUT")
    assert 2 <= len(puts) <= 5
    times = [post.server_ms] + [p.server_ms for p in puts]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(230 <= g <= 1000 for g in gaps), gaps  # never early; late only under load


async def test_exit_leaves_key_and_no_tasks(client: Client, fake_binance: FakeBinance) -> None:
    """By default exit keeps the shared key (no DELETE); no task is left, no PUT afterwards."""
    async with client.user_stream(keepalive_interval=0.2, **FAST) as stream:
        await next_event(stream)
        assert len(stream_tasks()) >= 3  # supervisor, keep-alive, reader
    assert stream_tasks() == []
    puts = len(calls(fake_binance, "PUT"))
    await asyncio.sleep(0.5)
    assert len(calls(fake_binance, "PUT")) == puts
    assert calls(fake_binance, "DELETE") == []
    state = fake_binance.state
    assert state.listen_key is not None and state.listen_key_expires_ms > fake_binance.now_ms()
    assert fake_binance.stream.open_connections == 0 or await _closes(fake_binance)


def stream_tasks() -> list[str]:
    """The stream's own pending tasks (the simulator's are not counted)."""
    names = [t.get_coro().__qualname__ for t in asyncio.all_tasks()]  # type: ignore[union-attr]
    return [n for n in names if n.startswith(("UserStream.", "Connection."))]


async def _closes(sim: FakeBinance) -> bool:
    for _ in range(50):
        if sim.stream.open_connections == 0:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_close_listen_key_deletes_once(client: Client, fake_binance: FakeBinance) -> None:
    """close_listen_key=True: exactly one DELETE on exit, and the key is gone."""
    stream = client.user_stream(close_listen_key=True, **FAST)
    async with stream:
        await next_event(stream)
    await stream.close()
    assert len(calls(fake_binance, "DELETE")) == 1
    assert fake_binance.state.listen_key is None


async def test_iteration_ends_when_closed(client: Client, fake_binance: FakeBinance) -> None:
    """A task waiting for the next event when the stream closes gets the end of iteration."""
    fake_binance.stream.cadence = None
    async with client.user_stream(**FAST) as stream:

        async def drain() -> list[Any]:
            return [e async for e in stream]

        waiter = asyncio.ensure_future(drain())
        await asyncio.sleep(0.1)
    assert await asyncio.wait_for(waiter, 2) == []


async def test_rejected_api_key_raises_on_entry(
    fake_binance: FakeBinance, make_client: ClientFactory
) -> None:
    """An API key Binance refuses (-2015) raises from entering, promptly, leaving nothing open."""
    client = make_client(api_key="not-a-key-of-this-account", futures_url=fake_binance.base_url,
                         stream_url=fake_binance.stream.url)
    started = time.monotonic()
    with pytest.raises(AuthenticationError) as info:
        async with client.user_stream(**FAST):
            pass
    assert info.value.code == -2015
    assert time.monotonic() - started < 2.0
    assert fake_binance.stream.connections_opened == 0


async def test_stream_used_before_entering() -> None:
    """Iterating a stream that was never entered is a clear error, not a hang."""
    async with FakeBinance() as sim, Client(api_key=sim.api_key, api_secret=sim.api_secret,
                                            base_url=sim.base_url, futures_url=sim.base_url,
                                            stream_url=sim.stream.url) as client:
        with pytest.raises(RuntimeError):
            await anext(client.user_stream())


def test_bad_arguments() -> None:
    """Bad intervals and URLs are refused before anything is sent."""
    client = Client(api_key="k", api_secret="s")
    with pytest.raises(ValueError):
        client.user_stream(heartbeat_timeout=0)
    with pytest.raises(ValueError):
        client.user_stream(keepalive_interval=-1)
    with pytest.raises(ValueError):
        Client(api_key="k", stream_url="https://fstream.binance.com")
    with pytest.raises(ValueError):
        Client(api_key="k", futures_url="fapi.binance.com")


async def test_rotation_delivers_every_event_once(client: Client, fake_binance: FakeBinance) -> None:
    """Rotating before the server's age cut: every event exactly once, in order, and no gap.

    Some frames are sent twice on purpose (identical text): both copies must come out, since
    de-duplication only matches one socket's frames against the other's.
    """
    fake_binance.stream.cadence = None
    fake_binance.stream.max_age = 0.9  # the server cuts connections at this age, as Binance does at 24 h
    sent: list[int] = []

    async def produce() -> None:
        for n in range(200):
            copies = 2 if n % 10 == 0 else 1
            for _ in range(copies):
                await fake_binance.stream.push({"e": "seqTest", "E": 1, "n": n})
                sent.append(n)
            await asyncio.sleep(0.01)

    async with client.user_stream(rotate_after=0.4, heartbeat_timeout=1.0) as stream:
        producer = asyncio.ensure_future(produce())
        got = await take(stream, 220)  # 200 events, 20 of them twice
        await producer
    assert not any(isinstance(e, StreamGap) for e in got)
    assert [e.raw["n"] for e in got] == sent
    assert fake_binance.stream.connections_opened >= 4


async def test_age_cut_without_rotation_is_a_gap(client: Client, fake_binance: FakeBinance) -> None:
    """Control: when the server cuts first (no rotation yet), the loss is reported as a gap."""
    fake_binance.stream.max_age = 0.3
    async with client.user_stream(rotate_after=60.0, **FAST) as stream:
        _, gap = await until_gap(stream)
    assert_repaired(gap, GapReason.DROPPED)


async def test_exit_while_repairing_closes_everything(client: Client, fake_binance: FakeBinance) -> None:
    """Exit while the snapshot after a reconnect is pending: prompt, new socket closed, no task."""
    async with client.user_stream(**FAST) as stream:
        await next_event(stream)
        fake_binance.inject(Fault.latency(5.0, path="/sapi/v1/portfolio/account"))
        fake_binance.stream.drop()
        for _ in range(300):  # until the new socket is open and the snapshot is pending
            if fake_binance.stream.connections_opened == 2:
                break
            await asyncio.sleep(0.01)
        started = time.monotonic()
    assert time.monotonic() - started < 1.0
    assert stream_tasks() == []
    assert await _closes(fake_binance)


async def test_exit_while_reconnecting(client: Client, fake_binance: FakeBinance) -> None:
    """Exit while every connect is refused and the stream is backing off: prompt, nothing left."""
    async with client.user_stream(**FAST) as stream:
        await next_event(stream)
        fake_binance.stream.refuse(1000)
        fake_binance.stream.drop()
        await asyncio.sleep(0.6)
        started = time.monotonic()
    assert time.monotonic() - started < 1.0
    assert stream_tasks() == []


async def test_listen_key_goes_to_the_futures_host(make_client: ClientFactory) -> None:
    """Listen-key calls go to futures_url; the snapshot after a gap to base_url (the SAPI host)."""
    async with FakeBinance() as fapi:
        fapi.stream.cadence = 0.05
        client = make_client(futures_url=fapi.base_url, stream_url=fapi.stream.url)
        async with client.user_stream(**FAST) as stream:
            await next_event(stream)
            fapi.stream.drop()
            _, gap = await until_gap(stream)
        assert len(calls(fapi, "POST")) == 1
        assert not any(r.path.startswith("/sapi") for r in fapi.requests)
    assert isinstance(gap.snapshot, AccountInfo)


async def test_refused_rotation_is_retried_without_gap(client: Client, fake_binance: FakeBinance) -> None:
    """The rotation's new connect refused: the old socket goes on, rotation is retried, no gap."""
    fake_binance.stream.cadence = None
    sent: list[int] = []

    async def produce() -> None:
        for n in range(120):
            if n == 5:
                fake_binance.stream.refuse(2)  # the first rotation, at 0.3 s, and its first retry
            await fake_binance.stream.push({"e": "seqTest", "E": 1, "n": n})
            sent.append(n)
            await asyncio.sleep(0.01)

    async with client.user_stream(rotate_after=0.3, heartbeat_timeout=1.0) as stream:
        producer = asyncio.ensure_future(produce())
        got = await take(stream, 120)
        await producer
    assert [e.raw["n"] for e in got] == sent
    assert fake_binance.stream.connections_refused == 2
    assert fake_binance.stream.connections_opened >= 2  # a later rotation went through


async def test_socket_host_refusing_tcp(
    fake_binance: FakeBinance, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens at stream_url: entering works, no exception escapes, retries are logged."""
    async with FakeBinance() as gone:
        dead_url = gone.stream.url
    client = make_client(futures_url=fake_binance.base_url, stream_url=dead_url)
    async with client.user_stream(**FAST) as stream:
        with pytest.raises(TimeoutError):
            await next_event(stream, timeout=0.8)
    failures = [r.getMessage() for r in caplog.records if "could not connect" in r.getMessage()]
    assert len(failures) >= 2 and all("ClientConnectorError" in m for m in failures)
    assert stream_tasks() == []


async def test_with_options_copy_streams(client: Client, fake_binance: FakeBinance) -> None:
    """A with_options() copy keeps the futures and stream hosts."""
    patient = client.with_options(max_wait=5)
    async with patient.user_stream(**FAST) as stream:
        assert isinstance(await next_event(stream), AccountUpdate)


async def test_keepalive_on_virtual_time(make_client: ClientFactory) -> None:
    """The keep-alive follows the client's time source: on virtual time, PUTs 30 minutes apart
    (server time) arrive within a second of real time, and the key never lapses."""
    vt = VirtualTime()
    async with FakeBinance(wall=vt.wall) as server:
        server.stream.cadence = 0.05
        client = make_client(base_url=server.base_url, futures_url=server.base_url,
                             stream_url=server.stream.url, time_source=vt)
        async with client.user_stream(**FAST) as stream:
            for _ in range(200):
                if len(calls(server, "PUT")) >= 3:
                    break
                await next_event(stream)
        (post,) = calls(server, "POST")
        puts = calls(server, "PUT")
    assert len(puts) >= 3 and all(p.status == 200 for p in puts)
    times = [post.server_ms] + [p.server_ms for p in puts]
    gaps_s = [(b - a) / 1000 for a, b in itertools.pairwise(times)]
    assert all(1795 <= g <= 1900 for g in gaps_s), gaps_s
