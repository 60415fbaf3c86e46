"""binance_pm.testing: a local Binance Portfolio Margin Pro simulator for your bot's tests.

::

    from binance_pm import Client
    from binance_pm.testing import FakeBinance, Fault

    async def test_my_bot():
        async with FakeBinance() as sim, Client(
            api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url
        ) as client:
            sim.inject(Fault.status_code(503, execute=True, path="/sapi/v1/portfolio/repay"))
            ...

The user data stream is served too: point ``futures_url`` at ``sim.base_url`` and ``stream_url`` at
``sim.stream.url``, and drive the server side with ``sim.stream`` (:class:`StreamSim`: push risk
events, drop or silence connections, expire the listen key).

With pytest and pytest-asyncio installed, the ``fake_binance`` fixture gives a started simulator.
``python -m binance_pm.testing serve`` runs one as a process, for bots in other processes or
languages; its HTTP control API (``/__sim__/``) is described in ``_control``.
"""

from ._books import BucketPolicy, Escalation, Family, per_kind, per_method_and_path, per_path
from ._faults import Fault, FaultKind
from ._routes import ROUTES, Route, route
from ._server import TEST_API_KEY, TEST_API_SECRET, FakeBinance, ReceivedRequest
from ._state import AccountState, Execution, SimError
from ._stream import StreamSim
from ._virtual_time import VirtualTime

__all__ = [
    "AccountState",
    "BucketPolicy",
    "Escalation",
    "Execution",
    "FakeBinance",
    "Family",
    "Fault",
    "FaultKind",
    "ROUTES",
    "ReceivedRequest",
    "Route",
    "SimError",
    "StreamSim",
    "TEST_API_KEY",
    "TEST_API_SECRET",
    "VirtualTime",
    "per_kind",
    "per_method_and_path",
    "per_path",
    "route",
]
