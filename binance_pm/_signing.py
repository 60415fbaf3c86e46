"""Signers: pure objects that turn the exact payload bytes into Binance's signature text.

HMAC keys give lowercase hex; RSA (PKCS#1 v1.5, SHA-256) and Ed25519 keys give standard base64,
which the session percent-encodes like any other value. RSA and Ed25519 need the ``crypto`` extra.
"""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from ._secret import Secret

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = ["Ed25519Signer", "HmacSigner", "RsaSigner", "Signer", "load_private_key"]


@runtime_checkable
class Signer(Protocol):
    """Anything that signs the payload bytes and returns the signature as text."""

    def sign(self, payload: bytes) -> str: ...


@attrs.frozen(repr=False)
class HmacSigner:
    """HMAC-SHA256 with the API secret, as lowercase hex."""

    secret: str = attrs.field(repr=False)
    _key: bytes = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.secret:
            raise ValueError("api_secret must not be empty")
        object.__setattr__(self, "_key", self.secret.encode())

    def sign(self, payload: bytes) -> str:
        return hmac.digest(self._key, payload, "sha256").hex()

    def __repr__(self) -> str:
        return "HmacSigner(secret=***)"


@attrs.frozen(repr=False)
class Ed25519Signer:
    """Pure Ed25519 (RFC 8032) over the payload, base64 encoded (88 characters)."""

    key: Ed25519PrivateKey = attrs.field(repr=False)

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self.key.sign(payload)).decode("ascii")

    def __repr__(self) -> str:
        return "Ed25519Signer(key=***)"


@attrs.frozen(repr=False)
class RsaSigner:
    """RSASSA-PKCS1-v1_5 with SHA-256 over the payload, base64 encoded."""

    key: RSAPrivateKey = attrs.field(repr=False)

    def sign(self, payload: bytes) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return base64.b64encode(self.key.sign(payload, padding.PKCS1v15(), hashes.SHA256())).decode(
            "ascii"
        )

    def __repr__(self) -> str:
        return "RsaSigner(key=***)"


def _load(
    loader: Callable[..., Any], key: Secret[KeySource], passphrase: Secret[bytes | str] | None
) -> Any:
    # The bare PEM and passphrase live only in this frame and die with it.
    secret = passphrase.reveal() if passphrase is not None else None
    password = secret.encode() if isinstance(secret, str) else secret
    return loader(_pem_bytes(key.reveal()), password=password)


def _pem_bytes(private_key: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(private_key, bytes):
        if b"-----BEGIN" in private_key:
            return private_key
        private_key = os.fsdecode(private_key)
    if isinstance(private_key, str) and "-----BEGIN" in private_key:
        return private_key.encode()
    with open(private_key, "rb") as fh:
        return fh.read()


KeySource = bytes | str | os.PathLike[str]


def load_private_key(
    private_key: KeySource | Secret[KeySource],
    passphrase: bytes | str | Secret[bytes | str] | None = None,
) -> Signer:
    """Build the signer for a PEM private key (bytes, text, or a path); the key type picks the class.

    The key and passphrase may come boxed in :class:`Secret` so no frame of ours holds them bare.
    """
    if not isinstance(private_key, Secret):
        private_key = Secret(private_key)
    if passphrase is not None and not isinstance(passphrase, Secret):
        passphrase = Secret(passphrase)
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "RSA and Ed25519 keys need the 'cryptography' package: pip install 'binance-pm[crypto]'"
        ) from err
    try:
        key = _load(load_pem_private_key, private_key, passphrase)
    except (ValueError, TypeError) as err:
        # cryptography's text names the problem (bad passphrase, not PEM) and never the key itself.
        raise ValueError(f"cannot load private key: {err}") from None
    if isinstance(key, Ed25519PrivateKey):
        return Ed25519Signer(key)
    if isinstance(key, RSAPrivateKey):
        return RsaSigner(key)
    raise ValueError(f"unsupported private key type {type(key).__name__}: use Ed25519 or RSA")
