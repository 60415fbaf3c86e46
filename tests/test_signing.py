"""Signers against the published vectors in binance-pm-pro-api.md section 5."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from binance_pm import Ed25519Signer, HmacSigner, RsaSigner
from binance_pm._signing import load_private_key

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

HMAC_VECTORS = [
    (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
        "&timestamp=1499827319559",
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
    ),
    (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=0.1&recvWindow=5000"
        "&timestamp=1499827319559",
        "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77",
    ),
    (
        "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
        "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
        "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3",
    ),
    (
        "recvWindow=5000&timestamp=1499827319559",
        "82f4e72e95e63d666b6da651e82a701722ad8a785a169318d91f36f279c55821",
    ),
    (
        "amount=0.5&transferSide=TO_UM&recvWindow=5000&timestamp=1499827319559",
        "568f696724feaf27a0c947dca6f3b8c7cec767ac3ddf0565fbc31bd0b9e04ed1",
    ),
    (
        "transferSide=TO_UM&amount=0.5&recvWindow=5000&timestamp=1499827319559",
        "9150f2e16223440995b25b186934f4b89b833854fa21722a9ba5c72f7e6b4e9e",
    ),
]

RFC8032_PEM = (
    b"-----BEGIN PRIVATE KEY-----\n"
    b"MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    b"-----END PRIVATE KEY-----\n"
)
ORDER_PAYLOAD = (
    b"symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=0.2"
    b"&timestamp=1668481559918&recvWindow=5000"
)


@pytest.mark.parametrize(("payload", "expected"), HMAC_VECTORS)
def test_hmac_matches_binance_vectors(payload: str, expected: str) -> None:
    """HMAC-SHA256 gives Binance's published (and derived) signatures, lowercase hex."""
    assert HmacSigner(SECRET).sign(payload.encode()) == expected


def test_hmac_signer_is_reusable() -> None:
    """The prepared HMAC state is copied per call: signing twice gives the same answer."""
    signer = HmacSigner(SECRET)
    payload = HMAC_VECTORS[0][0].encode()
    assert signer.sign(payload) == signer.sign(payload) == HMAC_VECTORS[0][1]


def test_ed25519_rfc8032_test1() -> None:
    """The RFC 8032 TEST 1 key signs the empty message to the RFC's signature."""
    signer = load_private_key(RFC8032_PEM)
    assert isinstance(signer, Ed25519Signer)
    sig = base64.b64decode(signer.sign(b""))
    assert sig.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )


def test_ed25519_derived_order_vector() -> None:
    """The derived Ed25519 vector over an order payload (88 base64 characters)."""
    sig = load_private_key(RFC8032_PEM).sign(ORDER_PAYLOAD)
    assert len(sig) == 88
    assert sig == "XtZirsmmi0noRzUfkqktvkVfxpkq/WtbLg2UOL3QGYdUBZVlqOBEMuEVw8zioY93N54NcKj9UuAXQEa9zgTDBg=="


def test_rsa_signature_verifies_and_matches_openssl(tmp_path: Path) -> None:
    """RSA PKCS#1 v1.5 SHA-256: verifies with the public key and equals openssl's output."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = tmp_path / "key.pem"
    path.write_bytes(pem)
    signer = load_private_key(path)
    assert isinstance(signer, RsaSigner)
    sig = signer.sign(ORDER_PAYLOAD)
    key.public_key().verify(base64.b64decode(sig), ORDER_PAYLOAD, padding.PKCS1v15(), hashes.SHA256())
    try:
        out = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(path)],
            input=ORDER_PAYLOAD, capture_output=True, check=True,
        ).stdout
    except (FileNotFoundError, subprocess.CalledProcessError):
        pytest.skip("openssl not available")
    assert base64.b64encode(out).decode() == sig


def test_encrypted_key_needs_passphrase(tmp_path: Path) -> None:
    """An encrypted PEM loads with its passphrase and is refused without it, key text unseen."""
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"hunter2"),
    )
    assert isinstance(load_private_key(pem, "hunter2"), Ed25519Signer)
    with pytest.raises(ValueError, match="cannot load private key") as info:
        load_private_key(pem)
    assert "hunter2" not in str(info.value) and "BEGIN" not in str(info.value)


def test_signer_reprs_hide_keys() -> None:
    """No signer's repr shows key material."""
    assert SECRET not in repr(HmacSigner(SECRET))
    assert "MC4CAQ" not in repr(load_private_key(RFC8032_PEM))


def test_empty_secret_refused() -> None:
    with pytest.raises(ValueError):
        HmacSigner("")
