"""The private Redis helper does what the fault tests rely on: freeze, kill, restart empty."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from ._redis_proc import RedisProcess


def _state(pid: int) -> str:
    """The process state letter from /proc (T: stopped)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
async def test_pause_resume_kill_restart(redis_proc: RedisProcess) -> None:
    """SIGSTOP freezes answers (sockets stay open), SIGCONT answers the queued command, SIGKILL
    refuses, restart comes back empty on the same port with a new PID."""
    redis = Redis.from_url(redis_proc.url, socket_timeout=0.3, retry=None)
    try:
        await redis.set("k", "v")
        pid, port = redis_proc.pid, redis_proc.port

        redis_proc.pause()
        assert _state(pid) == "T"
        started = time.monotonic()
        pending = asyncio.ensure_future(redis.get("k"))
        done, _ = await asyncio.wait({pending}, timeout=0.2)
        assert not done  # frozen: no answer, no error
        redis_proc.resume()
        assert await pending == b"v"
        assert time.monotonic() - started >= 0.2

        redis_proc.kill()
        assert not redis_proc.running
        with pytest.raises(RedisConnectionError):
            await redis.get("k")

        redis_proc.restart()
        assert redis_proc.port == port and redis_proc.pid != pid
        assert await redis.get("k") is None  # empty after the restart
    finally:
        await redis.aclose()


def test_context_manager_stops_the_process(redis_proc: RedisProcess) -> None:
    """Leaving the block kills the server (a second one, from the fixture's executable)."""
    with RedisProcess(exe=redis_proc.exe) as proc:
        pid = proc.pid
        os.kill(pid, 0)  # alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
