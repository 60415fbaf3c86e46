"""The simulator at the wire, as clients other than ours talk to it: raw aiohttp requests.

Each test pins one way FakeBinance reads a request as Binance documents it (where parameters go,
what is signed, which requests are refused), so a bot tested against it learns Binance's rules.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from binance_pm.testing import FakeBinance

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
REPAY = "/sapi/v1/portfolio/repay"


def hmac_sign(sim: FakeBinance, payload: str) -> str:
    return hmac.new(sim.api_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


async def send(
    sim: FakeBinance, method: str, path: str, query: str = "", *, body: str = "",
    headers: dict[str, str] | None = None, key: str | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """One request with the exact query and body bytes given: (status, JSON, headers)."""
    url = f"{sim.base_url}{path}" + (f"?{query}" if query else "")
    all_headers = {"X-MBX-APIKEY": key or sim.api_key, **(headers or {})}
    async with aiohttp.ClientSession() as http, http.request(
        method, aiohttp.client.URL(url, encoded=True), data=body.encode() or None,
        headers=all_headers,
    ) as resp:
        return resp.status, await resp.json(content_type=None), dict(resp.headers)


async def test_ping_and_time_are_always_served(fake_binance: FakeBinance) -> None:
    """/api/v3/ping and /api/v3/time answer on any simulator and share the /api pool's header."""
    status, data, headers = await send(fake_binance, "GET", "/api/v3/ping")
    assert (status, data, headers["X-MBX-USED-WEIGHT-1M"]) == (200, {}, "1")
    status, data, headers = await send(fake_binance, "GET", "/api/v3/time")
    assert status == 200 and isinstance(data["serverTime"], int)
    assert headers["X-MBX-USED-WEIGHT-1M"] == "2"


async def test_security_params_on_an_unsigned_route_are_not_unknown(
    fake_binance: FakeBinance,
) -> None:
    """A client that signs every SAPI call (ccxt) reads the MARKET_DATA collateral rates."""
    query = "timestamp=1700000000000&recvWindow=5000"
    query += f"&signature={hmac_sign(fake_binance, query)}"
    status, data, _ = await send(fake_binance, "GET", "/sapi/v1/portfolio/collateralRate", query)
    assert status == 200 and data[0]["asset"] == "USDC"
    status, data, _ = await send(
        fake_binance, "GET", "/sapi/v1/portfolio/asset-index-price", f"asset=BTC&{query}"
    )
    assert status == 200 and [row["asset"] for row in data] == ["BTC"]


async def test_query_value_wins_over_the_body(fake_binance: FakeBinance) -> None:
    """The same name in the query and the form body: the query's value is the one executed."""
    ts = fake_binance.now_ms()
    query, body = f"from=SPOT&timestamp={ts}", "from=MARGIN"  # MARGIN lacks the BUSD
    signature = hmac_sign(fake_binance, query + body)  # Binance signs query + body, no '&'
    status, data, _ = await send(fake_binance, "POST", REPAY, f"{query}&signature={signature}",
                                 body=body, headers=FORM)
    assert status == 200, data
    assert [e.params for e in fake_binance.executed(REPAY)] == [{"from": "SPOT"}]


async def test_duplicate_in_one_part_is_still_refused(fake_binance: FakeBinance) -> None:
    """A name twice in the query is -1101, as Binance answers."""
    query = f"from=SPOT&from=MARGIN&timestamp={fake_binance.now_ms()}"
    query += f"&signature={hmac_sign(fake_binance, query)}"
    status, data, _ = await send(fake_binance, "POST", REPAY, query)
    assert (status, data["code"]) == (400, -1101)
    assert fake_binance.executed(REPAY) == []


async def test_form_params_in_a_json_body_are_not_read(fake_binance: FakeBinance) -> None:
    """A body labelled application/json is not parameters: nothing signed, nothing executed."""
    body = f"timestamp={fake_binance.now_ms()}"
    body += f"&signature={hmac_sign(fake_binance, body)}"
    status, data, _ = await send(fake_binance, "POST", REPAY, body=body,
                                 headers={"Content-Type": "application/json"})
    assert (status, data["code"]) == (400, -1102)
    assert fake_binance.executed(REPAY) == []
    status, data, _ = await send(fake_binance, "POST", REPAY, body=body, headers=FORM)
    assert status == 200, data  # the same bytes as a form are a valid request


@pytest.mark.parametrize(("times", "status"), [(1, 200), (2, 400)])
async def test_asymmetric_signature_is_decoded_once(
    fake_binance: FakeBinance, times: int, status: int
) -> None:
    """An Ed25519 signature percent-encoded once verifies; encoded twice it is -1022."""
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    fake_binance.add_key("ed-key", public_key_pem=pem)
    signature = ""
    while "+" not in signature and "/" not in signature:  # make the encoding matter
        query = f"timestamp={fake_binance.now_ms()}"
        signature = base64.b64encode(key.sign(query.encode())).decode()
    for _ in range(times):
        signature = quote(signature, safe="")
    answer, data, _ = await send(fake_binance, "GET", "/sapi/v1/portfolio/pmLoan",
                                 f"{query}&signature={signature}", key="ed-key")
    assert answer == status, data
    if status != 200:
        assert data["code"] == -1022


@pytest.mark.parametrize("path", ["/sapi/v1/portfolio/mint", "/sapi/v1/portfolio/redeem"])
async def test_removed_bfusd_calls_answer_endpoint_gone(fake_binance: FakeBinance, path: str) -> None:
    """Clients still offer mint/redeem; Binance answers -21015 ENDPOINT_GONE, and so does this."""
    query = f"fromAsset=USDT&targetAsset=BFUSD&amount=1&timestamp={fake_binance.now_ms()}"
    query += f"&signature={hmac_sign(fake_binance, query)}"
    status, data, _ = await send(fake_binance, "POST", path, query)
    assert (status, data["code"]) == (400, -21015)
    assert fake_binance.executions == []
