"""One websocket of the user data stream: open it, read every frame, close or abort it.

aiohttp stays inside this module: a failure to open comes back as a short description (never the
URL, which holds the listen key), and a broken socket simply ends the reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import aiohttp

__all__ = ["Connection", "open_connection"]

log = logging.getLogger("binance_pm")

# Seconds a polite close may wait for the server's close frame (a dead peer never sends one).
CLOSE_GRACE_S = 2.0
_MAX_FRAME = 4 * 1024 * 1024


class Connection:
    """A socket and its reader task. ``last_frame`` is the loop time of the last frame of any kind
    (pings included): the watchdog's sign of life. ``reason`` is set by whoever kills it."""

    __slots__ = ("_closed", "_on_text", "last_frame", "opened", "reader", "reason", "started", "ws")

    def __init__(self, ws: aiohttp.ClientWebSocketResponse,
                 on_text: Callable[[Connection, str], None]) -> None:
        self.ws = ws
        self._on_text = on_text
        self.opened = self.started = self.last_frame = asyncio.get_running_loop().time()
        self.reader: asyncio.Task[None] | None = None
        self.reason: object = None
        self._closed = False

    def __repr__(self) -> str:
        return f"Connection(open={not self._closed}, reading={self.reader is not None})"

    def start(self) -> None:
        """Start reading; frames that arrived before were buffered by aiohttp, none is lost."""
        self.started = self.last_frame = asyncio.get_running_loop().time()
        self.reader = asyncio.get_running_loop().create_task(self._read())

    def kill(self, reason: object) -> None:
        """Stop reading at once (from any task); the owner then closes it."""
        if self.reason is None:
            self.reason = reason
        if self.reader is not None:
            self.reader.cancel()

    async def _read(self) -> None:
        ws, loop, on_text = self.ws, asyncio.get_running_loop(), self._on_text
        text, ping = aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.PING
        try:
            while True:
                msg = await ws.receive()
                self.last_frame = loop.time()
                kind = msg.type
                if kind is text:
                    on_text(self, msg.data)
                elif kind is ping:  # autoping is off so that pings reach the watchdog
                    await ws.pong(msg.data)
                elif kind is aiohttp.WSMsgType.BINARY:
                    log.warning("user stream: skipped a binary frame (%d bytes)", len(msg.data))
                elif kind is not aiohttp.WSMsgType.PONG:
                    return  # CLOSE, CLOSING, CLOSED, ERROR: the socket is gone
        except (aiohttp.ClientError, OSError) as err:  # a pong into a broken socket
            log.debug("user stream: socket failed: %s", type(err).__name__)

    async def close(self) -> None:
        """Stop the reader, send a close frame and release the socket without waiting long.

        Cancelling a pending ``receive()`` marks the socket abnormally closed, so aiohttp's close
        sends its frame and drops the connection at once instead of waiting for a dead peer.
        """
        if self._closed:
            return
        self._closed = True
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.wait([self.reader])
        with contextlib.suppress(TimeoutError, aiohttp.ClientError, OSError):
            async with asyncio.timeout(CLOSE_GRACE_S):
                await self.ws.close()


async def open_connection(
    http: aiohttp.ClientSession,
    url: str,
    timeout: float,
    on_text: Callable[[Connection, str], None],
) -> Connection | str:
    """A new (not yet reading) connection, or why it could not be opened."""
    failure: str
    try:
        async with asyncio.timeout(timeout):
            ws = await http.ws_connect(
                url, autoping=False, autoclose=True, heartbeat=None, max_msg_size=_MAX_FRAME,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_GRACE_S),
            )
    except aiohttp.WSServerHandshakeError as err:
        failure = f"handshake refused (HTTP {err.status})"  # its text holds the URL: not kept
    except TimeoutError:
        failure = f"no connection within {timeout:g}s"
    except (aiohttp.ClientError, OSError) as err:
        failure = f"connect failed ({type(err).__name__})"
    else:
        return Connection(ws, on_text)
    return failure
