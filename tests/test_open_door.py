"""client.request(): any Binance REST call through the one pipeline; hosts and pools per family;
Client(signer=...); one timeout coercion."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from binance_pm import (
    BinanceError,
    Client,
    Endpoint,
    Param,
    Timeout,
    Weight,
    WeightKind,
)
from binance_pm._config import as_timeout
from binance_pm.testing import ROUTES, FakeBinance, route
from binance_pm.testing._state import AccountState

from ._wire import last

SPOT_ACCOUNT = Endpoint("spot_account", "GET", "/api/v3/account", Weight(WeightKind.API, 20),
                        params=(Param("omit_zero", "omitZeroBalances"),))
FAPI_PATH = "/fapi/v1/test/ping"
FAPI_PING = Endpoint("fapi_ping", "GET", FAPI_PATH, Weight(WeightKind.IP, 1), signed=False)


@pytest.fixture(autouse=True)
def extra_routes() -> Iterator[None]:
    @route("GET", "/api/v3/account", "API", 20, params=("omitZeroBalances",))
    def account(state: AccountState, params: Mapping[str, str], now: int) -> Any:
        return {"balances": [{"asset": "BTC", "free": "0.10000000"}], "omit": params}

    @route("GET", FAPI_PATH, "API", 1, signed=False)
    def ping(state: AccountState, params: Mapping[str, str], now: int) -> Any:
        return {}

    yield
    del ROUTES[("GET", "/api/v3/account")], ROUTES[("GET", FAPI_PATH)]


async def test_signed_api_call_through_the_open_door(fake_binance: FakeBinance) -> None:
    """A signed GET /api/v3/account: signed, timestamped, booked in the /api pool, JSON back
    with exact decimals."""
    async with Client(api_key=fake_binance.api_key, api_secret=fake_binance.api_secret,
                      base_url=fake_binance.base_url) as client:
        data = await client.request(SPOT_ACCOUNT, {"omit_zero": True})
        assert str(data["balances"][0]["free"]) == "0.10000000"
        sent = last(fake_binance, "/api/v3/account")
        assert sent.status == 200 and sent.query.startswith("omitZeroBalances=true&recvWindow=")
        (api,) = [b for b in client.weights.buckets if b.key == "API:/api"]
        assert api.used >= 21  # 20 for the call, 1 per server-time sample
        parsed = await client.request(SPOT_ACCOUNT, parse=lambda d: len(d["balances"]))
        assert parsed == 1


async def test_fapi_call_goes_to_futures_url_and_its_own_pool(fake_binance: FakeBinance) -> None:
    """An unsigned /fapi call goes to futures_url and counts in the /fapi IP pool (2,400/min),
    apart from /api's."""
    async with Client(api_key=fake_binance.api_key, base_url="http://127.0.0.1:9",
                      futures_url=fake_binance.base_url) as client:
        client.clock.set(fake_binance.now_ms())  # server time comes from base_url, down here
        assert await client.request(FAPI_PING) == {}
        assert last(fake_binance, FAPI_PATH).status == 200
        (fapi,) = [b for b in client.weights.buckets if b.key == "IP:/fapi"]
        assert (fapi.used, fapi.limit) == (1, 2400)
        assert not any(b.key == "API:/api" for b in client.weights.buckets)


async def test_unknown_family_and_pool_refused_before_sending(fake_binance: FakeBinance) -> None:
    """No host for /papi, or a weight kind the family has no pool for: ValueError, nothing sent."""
    async with Client(api_key=fake_binance.api_key, api_secret=fake_binance.api_secret,
                      base_url=fake_binance.base_url) as client:
        with pytest.raises(ValueError, match="/papi"):
            await client.request(Endpoint("x", "GET", "/papi/v1/um/account",
                                          Weight(WeightKind.IP, 5)))
        with pytest.raises(ValueError, match="UID weight pool for /api"):
            await client.request(Endpoint("y", "GET", "/api/v3/x", Weight(WeightKind.UID, 1)))
        with pytest.raises(TypeError):
            await client.request("/api/v3/time")  # type: ignore[arg-type]
    assert fake_binance.requests == []


async def test_weight_over_the_pool_limit_is_refused(fake_binance: FakeBinance) -> None:
    """A call heavier than its pool's whole budget could never go: ValueError, not a wait."""
    async with Client(api_key=fake_binance.api_key, api_secret=fake_binance.api_secret,
                      base_url=fake_binance.base_url, api_weight_limit=10) as client:
        client.clock.set(fake_binance.now_ms())
        with pytest.raises(ValueError, match="exceeds"):
            await client.request(SPOT_ACCOUNT)
    assert not any(r.path == "/api/v3/account" for r in fake_binance.requests)


class KmsSigner:
    """A signer whose key lives elsewhere (here: an HMAC secret it never hands out)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self.signed: list[bytes] = []

    def sign(self, payload: bytes) -> str:
        self.signed.append(payload)
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()


async def test_client_signs_through_a_given_signer(fake_binance: FakeBinance) -> None:
    """Client(signer=...) signs every call through it: the simulator accepts the signature."""
    signer = KmsSigner(fake_binance.api_secret)
    async with Client(api_key=fake_binance.api_key, signer=signer, base_url=fake_binance.base_url) as client:
        assert (await client.account.pm_loan()).asset == "BUSD"
    sent = last(fake_binance, "/sapi/v1/portfolio/pmLoan")
    assert sent.status == 200
    assert signer.signed == [sent.query.rsplit("&signature=", 1)[0].encode()]


def test_signer_is_one_of_three_and_checked() -> None:
    """signer= excludes api_secret and private_key, and must have sign()."""
    with pytest.raises(ValueError, match="one of"):
        Client(api_key="k", api_secret="s", signer=KmsSigner("s"))
    with pytest.raises(TypeError, match="sign"):
        Client(api_key="k", signer=object())  # type: ignore[arg-type]


def test_one_timeout_coercion_everywhere() -> None:
    """Seconds mean the same Timeout for the constructor, with_options and a call: the whole
    attempt, with connecting capped at 5 s."""
    assert as_timeout(30) == Timeout(total=30.0, connect=5.0)
    assert as_timeout(2) == Timeout(total=2.0, connect=2.0)
    given = Timeout(total=3.0, connect=1.0)
    assert as_timeout(given) is given
    client = Client(api_key="k", api_secret="s", timeout=30)
    assert client._session.timeout == as_timeout(30)
    assert client.with_options(timeout=30)._session.timeout == as_timeout(30)
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            as_timeout(bad)
    with pytest.raises(TypeError):
        as_timeout("30")


async def test_base_url_path_prefix_is_kept(fake_binance: FakeBinance) -> None:
    """A base URL with a path (a gateway in front of Binance) prefixes every call's path, and
    the signed query goes out byte for byte after it."""
    async with Client(api_key=fake_binance.api_key, api_secret=fake_binance.api_secret,
                      base_url=f"{fake_binance.base_url}/gw/") as client:
        client.clock.set(fake_binance.now_ms())
        with pytest.raises(BinanceError):
            await client.request(SPOT_ACCOUNT, {"omit_zero": True}, max_wait=0)
    sent = fake_binance.requests[-1]
    assert sent.path == "/gw/api/v3/account"
    assert sent.query.startswith("omitZeroBalances=true&recvWindow=") and "&signature=" in sent.query
