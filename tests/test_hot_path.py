"""Signatures and JSON: exactly what hmac.new and json.loads(parse_float=Decimal) give."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from binance_pm._outcome import decode as _decode
from binance_pm._signing import HmacSigner

PAYLOAD = b"recvWindow=5000&timestamp=1499827319559"


@pytest.mark.parametrize("secret", ["k", "x" * 63, "x" * 64, "x" * 65, "y" * 200,
                                    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"])
def test_hmac_signer_matches_hmac_new(secret: str) -> None:
    """HmacSigner signs exactly like hmac.new, for keys around the block size."""
    expected = hmac.new(secret.encode(), PAYLOAD, hashlib.sha256).hexdigest()
    signer = HmacSigner(secret)
    assert signer.sign(PAYLOAD) == expected
    assert signer.sign(PAYLOAD) == expected  # no state carried from one signature to the next
    assert secret not in repr(signer)


@pytest.mark.parametrize("body", [
    b'{"asset": "BUSD", "amount": "579.45"}', b'{"rate": 0.1}', b"[1, 2.5]", b"{}",
    '{"a": "é"}'.encode("utf-16"), '{"a": 1.5}'.encode("utf-16-le"), b'\xef\xbb\xbf{"a": 1}',
    '{"a": 1}'.encode("utf-32"), b'{"a": 1} \r\n\t', b'{"a": {"b": [1, "x"]}}',
])
def test_decode_matches_json_loads(body: bytes) -> None:
    """The session's decoder parses like json.loads(parse_float=Decimal), UTF-16/32 included."""
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
