"""Key material never shows: not in reprs, exception text, rendered tracebacks' locals, or logs.

The secrets are module constants so the test functions' own frames never hold them as locals.
"""

from __future__ import annotations

import datetime
import logging
import ssl
import traceback
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from binance_pm import AuthenticationError, Client, RetryPolicy, TransportError
from binance_pm.testing import FakeBinance

from .conftest import ClientFactory

SECRET = "s3cr3t-HMAC-value-for-leak-tests"
PASSPHRASE = "pass-phrase-for-leak-tests"
_KEY = ed25519.Ed25519PrivateKey.generate()
PEM = _KEY.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.BestAvailableEncryption(PASSPHRASE.encode()),
)
PEM_BODY = PEM.decode().splitlines()[1]


def _rendered(err: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(err, capture_locals=True).format())


def _assert_clean(text: str) -> None:
    for needle in (SECRET, PASSPHRASE, PEM_BODY):
        assert needle not in text


def test_constructor_failure_traceback_locals() -> None:
    """An error raised inside Client() after the keys were bound renders without them."""
    with pytest.raises(ValueError) as info:
        Client(api_key="k", api_secret=SECRET, base_url="ftp://nowhere")
    _assert_clean(_rendered(info.value))


def test_bad_passphrase_traceback_locals() -> None:
    """A wrong passphrase: the error and its rendered locals show neither key nor passphrase."""
    with pytest.raises(ValueError) as info:
        Client(api_key="k", private_key=PEM, private_key_passphrase=PASSPHRASE + "x")
    text = _rendered(info.value)
    _assert_clean(text)
    assert "BEGIN" not in text


def test_bad_secret_characters_traceback_locals() -> None:
    """A secret with a newline is refused without echoing it."""
    with pytest.raises(ValueError) as info:
        Client(api_key="k", api_secret=SECRET + "\n")
    _assert_clean(_rendered(info.value))


def test_header_injection_through_api_key_refused() -> None:
    """CR/LF in the API key would forge headers: refused before anything is sent."""
    with pytest.raises(ValueError, match="api_key"):
        Client(api_key="k\r\nX-Evil: 1", api_secret="s")


async def test_request_failure_traceback_and_logs(
    fake_binance: FakeBinance, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused request, rendered with locals, and DEBUG logs carry neither secret nor signature."""
    caplog.set_level(logging.DEBUG, logger="binance_pm")
    client = make_client(api_secret=SECRET)
    with pytest.raises(AuthenticationError) as info:
        await client.account.pm_loan()
    text = _rendered(info.value)
    _assert_clean(text)
    _assert_clean(caplog.text)
    assert "signature=" not in caplog.text and "signature=" not in str(info.value)


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    return ctx


async def test_tls_verification_on_and_not_disabled_by_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A self-signed server is refused, even with the usual 'skip verification' variables set."""
    for var, value in [("PYTHONHTTPSVERIFY", "0"), ("CURL_CA_BUNDLE", ""),
                       ("REQUESTS_CA_BUNDLE", ""), ("SSL_CERT_FILE", str(tmp_path / "c.pem")),
                       ("HTTPS_PROXY", "http://127.0.0.1:9")]:
        monkeypatch.setenv(var, value)
    async with FakeBinance(ssl_context=_self_signed(tmp_path)) as sim, Client(
        api_key=sim.api_key, api_secret=sim.api_secret, base_url=sim.base_url,
        retry=RetryPolicy(max_retries=1, base=0.001, cap=0.002),
    ) as client:
        with pytest.raises(TransportError) as info:
            await client.account.pm_loan()
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    assert sim.requests == []
