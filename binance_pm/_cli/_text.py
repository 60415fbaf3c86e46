"""Text for the shell: Python names as options and commands, docstrings without markup."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["kebab", "option", "paragraphs", "plain", "rename", "summary"]

_ROLE = re.compile(r":[a-z]+:`~?([^`]*)`")  # :meth:`x`, :class:`~a.B`
_LITERAL = re.compile(r"``([^`]*)``")
_SINGLE = re.compile(r"`([^`]*)`")
_NONE = re.compile(r"\bNone\b")
_DECIMAL = re.compile(r"\bDecimal\(([^)]*)\)")
# "(``GET /sapi/...``, weight UID 5)" in a first line: --help shows the weight in its own column.
_ENDPOINT_NOTE = re.compile(r"\s*\(``(?:GET|POST|PUT|DELETE) [^)]*\)")


def kebab(name: str) -> str:
    """``from_`` -> ``from``, ``account_info`` -> ``account-info`` (a trailing _ only dodges a keyword)."""
    return name.rstrip("_").replace("_", "-")


def option(name: str) -> str:
    return "--" + kebab(name)


def plain(text: str, names: Mapping[str, str] | None = None) -> str:
    """reStructuredText inline markup removed; a literal that is a known Python name is renamed.

    Only literals are renamed (``asset`` -> --asset), so the word "asset" in prose stays a word.
    """
    names = names or {}
    text = _ROLE.sub(lambda m: names.get(m.group(1), m.group(1)), text)
    text = _LITERAL.sub(lambda m: names.get(m.group(1), m.group(1)), text)
    text = _SINGLE.sub(r"\1", text)
    # The shell sees JSON, where Python's None is null.
    return _DECIMAL.sub(r"\1", _NONE.sub("null", text)).replace("::", ":")


def rename(text: str, names: Mapping[str, str]) -> str:
    """Whole-name occurrences of Python names replaced, for messages that carry no markup.

    A name inside a longer one (``asset`` in ``asset-collection`` or ``asset_collection``) is kept.
    """
    if not names:
        return text
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w-])({alternatives})(?![\w-])")
    return pattern.sub(lambda m: names[m.group(1)], text)


def paragraphs(doc: str) -> list[str]:
    """A docstring's paragraphs, each on one line."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", doc.strip()) if p.strip()]


def summary(doc: str, names: Mapping[str, str] | None = None) -> str:
    """The first paragraph as one line of purpose, without the endpoint note or a final stop."""
    first = paragraphs(doc)[0] if doc.strip() else ""
    return plain(_ENDPOINT_NOTE.sub("", first), names).rstrip(".").strip()
