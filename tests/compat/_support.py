"""Shared by the compatibility tests: the extra's presence, test keys, URL rewriting.

These tests point other Binance clients at FakeBinance. They need the ``compat`` extra; outside
CI a missing extra skips them, in CI (``CI`` set, as ``.ci/run`` runs) it fails them, so the
suite can never pass there by skipping.
"""

from __future__ import annotations

import importlib
import os
import re
import warnings
from types import ModuleType

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from binance_pm.testing import FakeBinance


def need(module: str) -> ModuleType:
    """Import ``module`` or skip the calling test module (fail in CI).

    Deprecation warnings raised while the library imports its own dependencies are theirs to fix
    (python-binance imports a deprecated ``websockets`` name), so they are not errors here.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{module} is not installed (pip install -e '.[compat]')",
                    allow_module_level=True)


def local(url: str, base: str) -> str:
    """``url`` with its scheme and host replaced by the simulator's ``base``."""
    return re.sub(r"^(https?|wss?)://[^/]+", base, url)


def private_pems() -> dict[str, str]:
    """A fresh RSA and Ed25519 private key as PKCS#8 PEM text, by key type."""
    keys = {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ed25519": ed25519.Ed25519PrivateKey.generate()}
    return {name: key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
            for name, key in keys.items()}


def accept(sim: FakeBinance, api_key: str, private_pem: str) -> None:
    """Make ``sim`` accept signatures by ``private_pem``'s public key under ``api_key``."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,  # type: ignore[union-attr]
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    sim.add_key(api_key, public_key_pem=public)
