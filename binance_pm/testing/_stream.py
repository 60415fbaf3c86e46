"""The simulator's user data stream: the websocket at ``/pm-classic/ws/<listenKey>``.

Reach it as ``sim.stream`` of a :class:`FakeBinance`. Like Binance it sends every event to every
open connection of the account's active key, pushes ``PM_PRO_ACCOUNT_UPDATE`` every ``cadence``
seconds from ``sim.state.account``, pings every ``ping_interval`` seconds and cuts a connection at
``max_age`` seconds (Binance: 24 hours). A test drives the faults a bot must survive::

    await sim.stream.push_risk_level("MARGIN_CALL", uni_mmr="1.08")
    await sim.stream.push({"e": "uniMMRDrop", "E": sim.now_ms()})   # any raw event (or a str)
    sim.stream.drop()               # abort every connection (a reset, no close frame)
    sim.stream.go_silent()          # keep the sockets open but send and read nothing
    await sim.stream.expire_key()   # the key lapses: listenKeyExpired, then silence
    sim.stream.refuse(2)            # refuse the next two connects (HTTP 503)
    sim.stream.max_age = 1.0        # cut connections one second after they open
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import WSCloseCode, web

from . import _routes_stream  # noqa: F401  # registers the listen-key routes
from ._routes_stream import active_key

if TYPE_CHECKING:
    from ._server import FakeBinance

__all__ = ["StreamSim"]

_MAX_TICK_S = 0.05


@attrs.define(eq=False)
class _Socket:
    ws: web.WebSocketResponse
    key: str
    transport: asyncio.BaseTransport | None  # to abort: a reset, no close frame
    opened: float
    last_ping: float
    silent: bool = False
    notified: bool = False  # listenKeyExpired sent: the socket is dead from then on


class StreamSim:
    """The user-data-stream side of :class:`FakeBinance` (``sim.stream``); see the module doc.

    ``pushed`` lists every event frame sent (once per push, whatever the number of connections);
    ``connections_opened`` counts accepted connections, ``connections_refused`` refused ones.
    """

    def __init__(self, sim: FakeBinance) -> None:
        self._sim = sim
        self.cadence: float | None = 5.0
        self.ping_interval: float | None = 180.0
        self.max_age: float | None = 24 * 3600.0
        self.pushed: list[str] = []
        self.connections_opened = 0
        self.connections_refused = 0
        self._sockets: list[_Socket] = []
        self._refuse = 0
        self._loop_task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[Any]] = set()
        self._next_update = 0.0
        sim.app.router.add_get("/pm-classic/ws/{key}", self._handle)
        sim.app.on_shutdown.append(self._shutdown)

    def __repr__(self) -> str:
        return f"StreamSim(connections={len(self._sockets)}, cadence={self.cadence})"

    # -- controls -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The ``stream_url`` for a client: ``Client(..., stream_url=sim.stream.url)``."""
        scheme = "wss" if self._sim.ssl_context is not None else "ws"
        return f"{scheme}://{self._sim.host}:{self._sim.port}"

    @property
    def open_connections(self) -> int:
        return len(self._sockets)

    def account_update(self) -> dict[str, Any]:
        """A ``PM_PRO_ACCOUNT_UPDATE`` built from the simulated account, timed now."""
        acc = self._sim.state.account

        def amount(name: str) -> str:
            return str(acc.get(name, "0")).replace(",", "")

        available = amount("totalAvailableBalance")
        return {"e": "PM_PRO_ACCOUNT_UPDATE", "E": self._sim.now_ms(), "u": amount("uniMMR"),
                "eq": amount("accountEquity"), "ae": amount("actualEquity"),
                "im": amount("accountInitialMargin"), "mm": amount("accountMaintMargin"),
                "avb": available, "vmw": available}

    async def push(self, event: Mapping[str, Any] | str) -> None:
        """Send one event (a mapping, or any text, malformed included) to every live connection."""
        frame = event if isinstance(event, str) else json.dumps(event, default=str)
        self.pushed.append(frame)
        for sock in self._live():
            await _send(sock, frame)

    async def push_account_update(self) -> None:
        await self.push(self.account_update())

    async def push_risk_level(self, level: str = "MARGIN_CALL", *, uni_mmr: str | None = None) -> None:
        """A ``riskLevelChange`` to ``level`` with the account's equity and maintenance margin."""
        acc = self._sim.state.account
        await self.push({"e": "riskLevelChange", "E": self._sim.now_ms(),
                         "u": uni_mmr if uni_mmr is not None else acc["uniMMR"], "s": level,
                         "eq": acc["accountEquity"], "ae": acc["actualEquity"],
                         "m": acc["accountMaintMargin"]})

    def drop(self) -> None:
        """Abort every connection: the client sees a reset, no close frame."""
        for sock in list(self._sockets):
            if isinstance(sock.transport, asyncio.Transport):
                sock.transport.abort()

    def go_silent(self) -> None:
        """The current connections stay open but send nothing more, pings included, and read
        nothing either (a close frame goes unanswered): a half-open socket to a dead peer."""
        for sock in self._sockets:
            sock.silent = True
            if isinstance(sock.transport, asyncio.ReadTransport):
                sock.transport.pause_reading()

    async def expire_key(self, *, notify: bool = True) -> None:
        """The listen key lapses now: PUT answers -1125, connects are refused, POST makes a new one.

        With ``notify`` its connections get ``listenKeyExpired`` first; then they fall silent.
        """
        state = self._sim.state
        key = state.listen_key
        state.listen_key_expires_ms = 0
        for sock in self._sockets:
            if sock.key == key and not sock.notified:
                sock.notified = True
                if notify and not sock.silent:
                    await _send(sock, json.dumps({"e": "listenKeyExpired", "E": str(self._sim.now_ms()),
                                                  "listenKey": key}))

    def refuse(self, times: int = 1) -> None:
        """Refuse the next ``times`` connects with HTTP 503 (no upgrade)."""
        self._refuse += times

    # -- server side --------------------------------------------------------------------------

    def _live(self) -> list[_Socket]:
        key = active_key(self._sim.state, self._sim.now_ms())
        return [s for s in self._sockets if s.key == key and not s.silent and not s.notified]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._refuse > 0:
            self._refuse -= 1
            self.connections_refused += 1
            return web.Response(status=503, text="Service Unavailable")
        key = request.match_info["key"]
        if key != active_key(self._sim.state, self._sim.now_ms()):
            self.connections_refused += 1
            return web.json_response({"code": -1125, "msg": "This listenKey does not exist."},
                                     status=400)
        ws = web.WebSocketResponse(autoping=True, timeout=1.0)
        await ws.prepare(request)
        now = asyncio.get_running_loop().time()
        sock = _Socket(ws, key, request.transport, opened=now, last_ping=now)
        self._sockets.append(sock)
        self.connections_opened += 1
        if self._loop_task is None or self._loop_task.done():
            self._next_update = now + (self.cadence or 0.0)
            self._loop_task = asyncio.get_running_loop().create_task(self._run())
        try:
            async for _ in ws:  # the client's pongs and close
                pass
        finally:
            if sock in self._sockets:  # an age cut has removed it already
                self._sockets.remove(sock)
        return ws

    async def _run(self) -> None:
        """While connections are open: account updates, pings, age cuts, lapsed keys."""
        loop = asyncio.get_running_loop()
        while self._sockets:
            ticks = [_MAX_TICK_S, self.cadence or _MAX_TICK_S, self.ping_interval or _MAX_TICK_S]
            await asyncio.sleep(max(0.001, min(ticks)))
            now = loop.time()
            await self._expire_lapsed()
            for sock in list(self._sockets):
                if self.max_age is not None and now - sock.opened >= self.max_age:
                    self._sockets.remove(sock)
                    self._spawn(sock.ws.close(code=WSCloseCode.GOING_AWAY, message=b"24h"))
                elif (self.ping_interval is not None and not sock.silent
                      and now - sock.last_ping >= self.ping_interval):
                    sock.last_ping = now
                    await _ping(sock)
            if self.cadence is not None and now >= self._next_update:
                self._next_update = now + self.cadence
                await self.push_account_update()

    async def _expire_lapsed(self) -> None:
        state = self._sim.state
        if state.listen_key is None:  # deleted: Binance ends its streams
            for sock in [s for s in self._sockets if not s.notified]:
                sock.notified = True
                self._spawn(sock.ws.close())
        elif state.listen_key_expires_ms <= self._sim.now_ms() and any(
            s.key == state.listen_key and not s.notified for s in self._sockets
        ):
            await self.expire_key()

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _shutdown(self, app: web.Application) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
        for task in list(self._closing):
            task.cancel()
        self.drop()


async def _send(sock: _Socket, frame: str) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):  # the socket went away meanwhile
        await sock.ws.send_str(frame)


async def _ping(sock: _Socket) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await sock.ws.ping()
