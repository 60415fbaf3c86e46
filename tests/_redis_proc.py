"""A private redis-server the test owns: its PID known, so it can be frozen, killed and restarted.

The shared server of ``test_weights_redis`` (``$BINANCE_PM_TEST_REDIS_URL``) must never be
stopped; the Redis fault tests (issue 14: A1 Redis dies while a POST is in flight, B5 Redis
restarts empty mid-window, C12 Redis frozen with its sockets open) each get their own::

    async def test_x(redis_proc: RedisProcess) -> None:
        redis = Redis.from_url(redis_proc.url)
        ...
        redis_proc.pause()    # SIGSTOP: connections stay open, nothing answers (a frozen host)
        redis_proc.resume()   # SIGCONT
        redis_proc.kill()     # SIGKILL: connections reset, the port refuses
        redis_proc.restart()  # SIGKILL if running, then a fresh, empty server on the same port

The server keeps nothing on disk (``--save ''``, no AOF, its own temporary ``--dir``), so a
restart always comes back empty, as a Redis without persistence does after a crash.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from types import TracebackType
from typing import Self

__all__ = ["RedisProcess", "RedisUnavailable", "free_port"]

_START_TIMEOUT_S = 10.0


class RedisUnavailable(RuntimeError):
    """No redis-server executable on PATH."""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int, timeout: float) -> bool:
    """True if a Redis on ``port`` answers PING within ``timeout`` (a stopped one does not)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    """One redis-server child process on 127.0.0.1; see the module docstring.

    ``start()`` returns once the server answers PING; ``pid`` is the running process's id (it
    changes on ``restart()``). Close with ``stop()`` or use it as a context manager.
    """

    def __init__(self, *, port: int | None = None, exe: str | None = None) -> None:
        found = exe or shutil.which("redis-server")
        if found is None:
            raise RedisUnavailable("no redis-server on PATH")
        self.exe = found
        self.port = port if port is not None else free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="binance_pm-redis-")
        self.paused = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError("redis-server is not running")
        return self._proc.pid

    @property
    def running(self) -> bool:
        """Alive (paused counts as alive)."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        """Start the server (empty) and wait until it answers PING."""
        if self.running:
            raise RuntimeError("redis-server is already running")
        self._proc = subprocess.Popen(
            [
                self.exe, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self._dir.name,
                "--daemonize", "no", "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.paused = False
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _ping(self.port, 0.2):
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with {self._proc.returncode} on port {self.port}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"redis-server did not answer on port {self.port}")
            time.sleep(0.02)
        return self

    def _signal(self, sig: signal.Signals) -> None:
        os.kill(self.pid, sig)

    def pause(self) -> None:
        """SIGSTOP: the process freezes; the kernel keeps its sockets open and queues requests.
        Returns once the process is stopped (a signal takes effect a moment after it is sent)."""
        self._signal(signal.SIGSTOP)
        self.paused = True
        stat = f"/proc/{self.pid}/stat"
        deadline = time.monotonic() + 2.0
        while os.path.exists(stat) and time.monotonic() < deadline:
            with open(stat) as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("T", "t"):
                    return
            time.sleep(0.001)

    def resume(self) -> None:
        """SIGCONT: the process answers again, queued requests first."""
        self._signal(signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        """SIGKILL and reap: every connection is reset, the port refuses until a restart."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.kill()  # SIGKILL ends a stopped process too
        proc.wait(_START_TIMEOUT_S)
        self.paused = False

    def restart(self) -> Self:
        """Kill (if running) and start a new, empty server on the same port."""
        self.kill()
        return self.start()

    def stop(self) -> None:
        """Kill the server and remove its directory; safe to call twice."""
        self.kill()
        self._dir.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "paused" if self.paused else "running" if self.running else "stopped"
        return f"RedisProcess(port={self.port}, {state})"
