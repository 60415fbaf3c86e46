"""The public surface: __all__ is sorted and complete, the package is typed, the fixture works."""

from __future__ import annotations

from decimal import Decimal
from importlib.resources import files

import binance_pm
import binance_pm.testing
from binance_pm.testing import FakeBinance


def test_all_is_sorted_and_importable() -> None:
    for module in (binance_pm, binance_pm.testing):
        names = module.__all__
        assert list(names) == sorted(names)
        for name in names:
            assert hasattr(module, name), name


def test_public_classes_are_exported() -> None:
    """Every public class defined in a private module of the package is in __all__."""
    exported = set(binance_pm.__all__)
    for name in dir(binance_pm):
        obj = getattr(binance_pm, name)
        if isinstance(obj, type) and obj.__module__.startswith("binance_pm.") and not name.startswith("_"):
            assert name in exported, name


def test_py_typed_shipped() -> None:
    assert files("binance_pm").joinpath("py.typed").is_file()


async def test_fake_binance_fixture(fake_binance: FakeBinance) -> None:
    """The pytest plugin's fixture yields a started simulator."""
    async with binance_pm.Client(
        api_key=fake_binance.api_key, api_secret=fake_binance.api_secret,
        base_url=fake_binance.base_url,
    ) as client:
        assert (await client.account.pm_loan()).amount == Decimal("579.45")
