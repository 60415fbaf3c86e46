"""The hot path's shortcuts give exactly what the plain ways give (signature, URL, JSON)."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from binance_pm import Client
from binance_pm._catalogue import PM_LOAN
from binance_pm._session import _decode
from binance_pm._signing import HmacSigner
from binance_pm.testing import FakeBinance

PAYLOAD = b"recvWindow=5000&timestamp=1499827319559"


@pytest.mark.parametrize("secret", ["k", "x" * 63, "x" * 64, "x" * 65, "y" * 200,
                                    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"])
def test_hmac_signer_matches_hmac_new(secret: str) -> None:
    """The prepared RFC 2104 states sign exactly like hmac.new, for keys around the block size."""
    expected = hmac.new(secret.encode(), PAYLOAD, hashlib.sha256).hexdigest()
    signer = HmacSigner(secret)
    assert signer.sign(PAYLOAD) == expected
    assert signer.sign(PAYLOAD) == expected  # the prepared states are copied, never consumed
    assert secret not in repr(signer)


@pytest.mark.parametrize("body", [
    b'{"asset": "BUSD", "amount": "579.45"}', b'{"rate": 0.1}', b"[1, 2.5]", b"{}",
    '{"a": "é"}'.encode("utf-16"), '{"a": 1.5}'.encode("utf-16-le"), b'\xef\xbb\xbf{"a": 1}',
    '{"a": 1}'.encode("utf-32"), b'{"a": 1} \r\n\t', b'{"a": {"b": [1, "x"]}}',
])
def test_decode_matches_json_loads(body: bytes) -> None:
    """The prepared decoder and its UTF-8 shortcut parse like json.loads(parse_float=Decimal)."""
    assert _decode(body) == json.loads(body, parse_float=Decimal)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(
    st.dictionaries(st.text(), _JSON_VALUES, max_size=5),
    st.text(alphabet=" \t\n\r\x0b\x0c\xa0x}", max_size=3),
)
def test_decode_agrees_with_json_loads_on_any_object(obj: dict[str, object], tail: str) -> None:
    """Any JSON object with any tail: the same value, or a ValueError exactly when json.loads fails."""
    body = (json.dumps(obj) + tail).encode()
    try:
        expected = json.loads(body, parse_float=Decimal)
    except ValueError:
        with pytest.raises(ValueError):
            _decode(body)
    else:
        assert _decode(body) == expected


@pytest.mark.parametrize("body", [
    b"{", b"", b"<html>", b'{"a": 1', b"\xff\xfe{\x00", b'{"a": 1}x', b'{"a": 1}{}',
    b'{"a": 1}\x0c', b'{"a": 1} \xc2\xa0', b'{"a" 1}', b"{}}",
])
def test_decode_rejects_like_json_loads(body: bytes) -> None:
    """Anything json.loads refuses raises ValueError here too."""
    with pytest.raises(ValueError):
        json.loads(body, parse_float=Decimal)
    with pytest.raises(ValueError):
        _decode(body)


@pytest.mark.parametrize("base", [
    "http://127.0.0.1:8080", "https://api.binance.com", "http://[::1]:8080", "https://host/prefix",
    "https://HOST.example", "http://127.0.0.1:80", "https://h/a%20b",
])
async def test_url_is_the_plain_concatenation(base: str) -> None:
    """URL.build from the split base URL equals parsing base + path + query, byte for byte."""
    async with Client(api_key="k", api_secret="s", base_url=base) as client:
        session = client._session
        session.clock.set(1_499_827_319_559)
        prep = session._prepare(PM_LOAN)
        url = session._url(prep, "", 5000, session.clock.now_ms())
        expected = URL(f"{base}{PM_LOAN.path}?{url.raw_query_string}", encoded=True)
        assert str(url) == str(expected)
        assert url.raw_path_qs == expected.raw_path_qs
        assert (url.scheme, url.raw_host, url.port) == (expected.scheme, expected.raw_host,
                                                        expected.port)


async def test_base_url_change_is_followed(fake_binance: FakeBinance) -> None:
    """A session whose base_url changes sends the next call to the new address."""
    async with Client(api_key=fake_binance.api_key, api_secret=fake_binance.api_secret,
                      base_url="http://127.0.0.1:9") as client:
        session = client._session
        assert session._url(session._prepare(PM_LOAN), "", 5000, 0).port == 9  # split the old one
        session.base_url = fake_binance.base_url
        assert (await client.account.pm_loan()).asset == "BUSD"
