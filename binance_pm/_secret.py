"""A box for key material, so it never shows in a repr or a traceback's captured locals."""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["Secret"]

T = TypeVar("T")


class Secret(Generic[T]):
    """Holds a secret value; ``repr``/``str`` print ``***``. Call :meth:`reveal` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def reveal(self) -> T:
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__
