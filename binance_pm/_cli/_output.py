"""What a command prints: JSON (default) or an aligned table.

JSON keeps every amount an exact string (a JSON number would pass through a float in most
readers), datetimes ISO 8601 in UTC with milliseconds (Binance's resolution), and drops each
model's ``raw`` copy of the response. A command hands its result to an :class:`Output` with
``value()`` (one result) or ``row()`` (one of many, as they arrive: history walks, streams).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, TextIO

import attrs

__all__ = ["JsonOutput", "Output", "TableOutput", "iso", "jsonable", "table"]


def iso(moment: datetime) -> str:
    """``2026-01-01T08:00:00.000Z``: ISO 8601, UTC, milliseconds."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _record(value: object) -> bool:
    """A model, or a mapping (what a command that is not an endpoint may print)."""
    return attrs.has(type(value)) or isinstance(value, Mapping)


def _fields(obj: Any) -> list[tuple[str, Any]]:
    """(name, value) of a model's fields, in declaration order, without ``raw``; a mapping's items."""
    if isinstance(obj, Mapping):
        return [(str(k), v) for k, v in obj.items()]
    return [(f.name, getattr(obj, f.name)) for f in attrs.fields(type(obj)) if f.name != "raw"]


def jsonable(value: Any) -> Any:
    """A result as plain JSON values: Decimal -> str, datetime -> ISO string, model -> object."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, enum.Enum):
        return value.value
    if attrs.has(type(value)):
        return {name: jsonable(v) for name, v in _fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


class Output(Protocol):
    """Where a command's results go.

    With ``--table`` rows are kept until :meth:`close` (alignment needs every width), so a command
    that never ends (a stream watcher) should hand each event to :meth:`value` instead.
    """

    def value(self, result: object) -> None:
        """The command's one result."""

    def row(self, result: object) -> None:
        """One result of a sequence, printed (JSON) or kept (table) as it arrives."""

    def close(self) -> None:
        """The command is done: print what was kept."""


@attrs.define
class JsonOutput:
    """One JSON value per result, one line each, flushed: ``jq`` sees rows as they come."""

    stream: TextIO

    def value(self, result: object) -> None:
        self.stream.write(json.dumps(jsonable(result)) + "\n")
        self.stream.flush()

    def row(self, result: object) -> None:
        self.value(result)

    def close(self) -> None:
        pass


@attrs.define
class TableOutput:
    """A table for a person: rows are kept until the end, since alignment needs every width."""

    stream: TextIO
    rows: list[object] = attrs.field(factory=list)
    wrote: bool = False

    def value(self, result: object) -> None:
        self.wrote = True
        self.stream.write(table(result) + "\n")

    def row(self, result: object) -> None:
        self.rows.append(result)

    def close(self) -> None:
        if self.rows or not self.wrote:  # nothing at all: say so rather than print nothing
            self.value(self.rows)
        self.rows = []


# -- tables ------------------------------------------------------------------------------------


@attrs.frozen
class _Cell:
    text: str
    numeric: bool = False  # a Decimal or int: aligned on the decimal point


def _cell(value: Any) -> _Cell:
    if value is None:
        return _Cell("-")
    if isinstance(value, bool):
        return _Cell("true" if value else "false")
    if isinstance(value, Decimal):
        return _Cell(format(value, "f"), numeric=True)
    if isinstance(value, int):
        return _Cell(str(value), numeric=True)
    if isinstance(value, datetime):
        return _Cell(iso(value))
    if isinstance(value, enum.Enum):
        return _Cell(str(value.value))
    if _record(value):
        return _Cell(" ".join(f"{k}={_cell(v).text}" for k, v in _fields(value)))
    if isinstance(value, list | tuple):
        return _Cell("; ".join(_cell(v).text for v in value))
    return _Cell(str(value))


def _align(column: Sequence[_Cell]) -> list[str]:
    """Numbers right-aligned on their decimal point, text left-aligned; all one width."""
    numbers = [c.text.partition(".") for c in column if c.numeric]
    whole = max((len(n[0]) for n in numbers), default=0)
    frac = max((len(n[1]) + 1 if n[1] else 0 for n in numbers), default=0)
    texts = []
    for c in column:
        if c.numeric:
            head, _, tail = c.text.partition(".")
            texts.append(head.rjust(whole) + ("." + tail if tail else "").ljust(frac))
        else:
            texts.append(c.text)
    width = max((len(t) for t in texts), default=0)
    return [t.ljust(width) for t in texts]


def _render(columns: Sequence[Sequence[_Cell]]) -> str:
    aligned = [_align(col) for col in columns]
    lines = ["  ".join(parts).rstrip() for parts in zip(*aligned, strict=True)]
    return "\n".join(lines)


def _nested(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(_record(v) for v in value)


def _flatten(obj: Any) -> list[list[tuple[str, Any]]]:
    """A model as table rows: one row, or one per child when it holds one list of models.

    (Tiered collateral rates: one row per tier, the asset repeated.)
    """
    fields = _fields(obj)
    nested = [i for i, (_, v) in enumerate(fields) if _nested(v)]
    if len(nested) != 1:
        return [fields]
    i = nested[0]
    parent = fields[:i] + fields[i + 1:]
    taken = {name for name, _ in parent}
    return [
        parent + [(n if n not in taken else f"{fields[i][0]}.{n}", v) for n, v in _fields(child)]
        for child in fields[i][1]
    ]


def table(result: object) -> str:
    """One model as name/value lines; a sequence of models as a table with a header row."""
    if _record(result):
        pairs = _fields(result)
        return _render([[_Cell(n) for n, _ in pairs], [_cell(v) for _, v in pairs]])
    if isinstance(result, list | tuple):
        rows = [row for item in result
                for row in (_flatten(item) if _record(item) else [[("value", item)]])]
        if not rows:
            return "(no rows)"
        names: list[str] = []
        for row in rows:
            names.extend(n for n, _ in row if n not in names)
        columns = []
        for name in names:
            cells = [_Cell(name)]
            for row in rows:
                cells.append(_cell(dict(row).get(name)))
            columns.append(cells)
        return _render(columns)
    return _cell(result).text
