"""Subcommands: the :class:`Command` base, and one command per Account/Market method.

Endpoint commands are generated, never written by hand: the method's keyword arguments become
options (typed from its annotations), its docstring the help, and its spec in ``_catalogue`` (found
by the method's name) the weight and whether it moves money. A method ``x`` with an ``iter_x``
walker gives two commands: ``x`` walks every page (the one an operator wants) and ``x-page`` reads
one. A command that is not an endpoint (a stream watcher, say) subclasses :class:`Command`.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import re
import typing
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import attrs

from .. import _catalogue
from .._account import Account
from .._client import Client
from .._endpoints import Endpoint
from .._market import Market
from ._output import Output, iso
from ._text import kebab, option, paragraphs, plain, summary

__all__ = ["Command", "EndpointCommand", "Option", "endpoint_commands", "parse_moment"]

# Per-call overrides every method takes; the command line sets them once, on the client.
_CLIENT_LEVEL = frozenset({"self", "recv_window", "timeout", "max_wait"})
_GROUPS: tuple[tuple[str, type], ...] = (("account", Account), ("market", Market))


@attrs.frozen
class Command:
    """One subcommand. Subclass it for a command that is not an endpoint, and override
    :meth:`add_arguments` and :meth:`run`; add the instance to ``EXTRA_COMMANDS`` in
    ``binance_pm._cli``.

    ``weight`` is what one run costs, shown in ``--help``; ``signed`` says whether it needs the
    secret or private key as well as the API key; ``names`` maps Python names in error messages
    and help to what the user typed (``from_`` -> ``--from``).
    """

    name: str
    group: str
    purpose: str
    description: str = ""
    weight: str = ""
    signed: bool = True
    names: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def moves_money(self) -> bool:
        """Asks for confirmation (and takes ``--yes``) before it runs."""
        return False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add this command's own options."""

    def preview(self, args: argparse.Namespace) -> str:
        """What will be sent, for the confirmation; may raise ValueError/TypeError (bad option)."""
        return ""

    def check_hint(self, args: argparse.Namespace, started: datetime, prog: str) -> str:
        """The command to run before resending, when the outcome is unknown."""
        return ""

    async def run(self, client: Client, args: argparse.Namespace, out: Output) -> None:
        raise NotImplementedError


# -- options from annotations ------------------------------------------------------------------


def parse_moment(text: str) -> datetime | int:
    """``2026-01-01``, ``2026-01-01T08:00:00Z`` (a time without a zone is UTC) or epoch ms."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date or time: {text!r} (use 2026-01-01, 2026-01-01T08:00:00Z or epoch ms)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _parse_flag(text: str) -> bool:
    if text not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text == "true"


@attrs.frozen
class Option:
    """One keyword argument of a method as a command-line option.

    Values are converted only as far as the shell needs (text to int, bool, datetime); amounts
    stay strings, which the method accepts and checks itself, so the command line refuses exactly
    what a Python call refuses.
    """

    param: str
    kind: str  # choice, flag, moment, amount, int, text
    required: bool
    default: Any = None
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return option(self.param)

    def add_to(self, parser: argparse._ActionsContainer) -> None:
        help_text = {
            "choice": "",
            "flag": "true or false",
            "moment": "UTC date or time (2026-01-01, 2026-01-01T08:00:00Z) or epoch ms",
            "amount": "exact decimal, e.g. 0.5",
            "int": "",
            "text": "",
        }[self.kind]
        if self.default is not None:
            default = self.default.value if isinstance(self.default, enum.Enum) else self.default
            help_text = f"{help_text}{'; ' if help_text else ''}default {default}"
        kwargs: dict[str, Any] = {
            "dest": self.param, "required": self.required, "default": None, "help": help_text,
        }
        if self.kind == "choice":
            kwargs["choices"] = self.choices
            kwargs["metavar"] = "{" + ",".join(self.choices) + "}"
        elif self.kind == "flag":
            kwargs.update(type=_parse_flag, metavar="{true,false}")
        elif self.kind == "moment":
            kwargs.update(type=parse_moment, metavar="TIME")
        elif self.kind == "int":
            kwargs.update(type=int, metavar="N")
        elif self.kind == "amount":
            kwargs["metavar"] = "AMOUNT"
        else:
            kwargs["metavar"] = kebab(self.param).upper()
        parser.add_argument(self.flag, **kwargs)


def _option(param: inspect.Parameter, hint: Any) -> Option:
    members = [a for a in (typing.get_args(hint) or (hint,)) if a is not type(None)]
    required = param.default is inspect.Parameter.empty
    default = None if required else param.default
    for a in members:
        if isinstance(a, type) and issubclass(a, enum.Enum):
            return Option(param.name, "choice", required, default, tuple(str(m.value) for m in a))
    for py_type, kind in ((bool, "flag"), (datetime, "moment"), (Decimal, "amount"),
                          (int, "int"), (str, "text")):
        if py_type in members:
            return Option(param.name, kind, required, default)
    raise TypeError(f"{param.name}: no command-line form for {hint!r}")


def _options(func: Callable[..., Any]) -> tuple[Option, ...]:
    hints = typing.get_type_hints(func)
    return tuple(
        _option(p, hints[p.name])
        for p in inspect.signature(func).parameters.values()
        if p.name not in _CLIENT_LEVEL
    )


# -- endpoint commands ---------------------------------------------------------------------------


def specs_by_name() -> dict[str, Endpoint]:
    """Every endpoint spec in the catalogue, by its name (which is its method's name)."""
    return {v.name: v for v in vars(_catalogue).values() if isinstance(v, Endpoint)}


def weight_text(spec: Endpoint) -> str:
    """``UID 5``; ``IP 1/50`` when the weight depends on the arguments (lowest/highest)."""
    amounts = {spec.weight.amount}
    if spec.weight_rule is not None:
        amounts.add(spec.weight_rule({}).amount)
        amounts.add(spec.weight_rule({p.name: "x" for p in spec.params}).amount)
    return f"{spec.weight.kind.value} " + "/".join(str(a) for a in sorted(amounts))


@attrs.frozen
class EndpointCommand(Command):
    """A command that calls one Account or Market method with the options given."""

    owner: str = "account"
    method: str = ""
    spec: Endpoint | None = None  # None only for a method with no spec (a test forbids it)
    options: tuple[Option, ...] = ()
    walks: bool = False  # an iter_* method: rows as they arrive
    check: str = ""  # command to run after an unknown outcome (money moves)
    check_options: tuple[str, ...] = ()  # of "start", "asset": what the check command takes

    @property
    def moves_money(self) -> bool:
        # Binance's non-idempotent calls: repayments, transfers, collections, switches.
        return self.spec is not None and not self.walks and not self.spec.is_idempotent

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("options of this command") if self.options else parser
        for opt in self.options:
            opt.add_to(group)

    def kwargs(self, args: argparse.Namespace) -> dict[str, Any]:
        """The method's keyword arguments: the options given (left out, the method's default)."""
        return {o.param: getattr(args, o.param) for o in self.options
                if getattr(args, o.param) is not None}

    def preview(self, args: argparse.Namespace) -> str:
        if self.spec is None:
            return ""
        params = {p.name for p in self.spec.params}
        # The spec's own encoder: the same checks and bytes the call will make.
        query = self.spec.encode({k: v for k, v in self.kwargs(args).items() if k in params})
        lines = [f"{self.spec.method} {self.spec.path}  (weight {self.weight})"]
        for pair in query.split("&") if query else ():
            name, _, value = pair.partition("=")
            lines.append(f"  {unquote(name)} = {unquote(value)}")
        if not query:
            lines.append("  (no parameters)")
        return "\n".join(lines)

    def check_hint(self, args: argparse.Namespace, started: datetime, prog: str) -> str:
        if not self.check:
            return ""
        words = [prog, self.check]
        if "start" in self.check_options:
            # A few minutes' margin for the difference between this clock and Binance's.
            words += ["--start", iso(started - timedelta(minutes=5))]
        asset = getattr(args, "asset", None)
        if "asset" in self.check_options and asset is not None:
            words += ["--asset", str(asset)]
        return " ".join(words)

    async def run(self, client: Client, args: argparse.Namespace, out: Output) -> None:
        group = client.account if self.owner == "account" else client.market
        result = getattr(group, self.method)(**self.kwargs(args))
        if self.walks:
            rows: AsyncIterator[object] = result
            async for row in rows:
                out.row(row)
        else:
            out.value(await result)


def _methods(cls: type) -> list[str]:
    # Class-body order, so --help lists related commands together as the source does.
    return [n for n, v in vars(cls).items() if inspect.isfunction(v) and not n.startswith("_")]


def _drop_python(paragraph: str) -> str:
    """A paragraph without sentences that only make sense in Python (``async for ... client.``)."""
    sentences = re.split(r"(?<=\.)\s+", paragraph)
    return " ".join(s for s in sentences if "client." not in s and "aclose" not in s)


def endpoint_commands() -> list[EndpointCommand]:
    """One command per public Account/Market method, in source order."""
    specs = specs_by_name()
    found: list[tuple[str, type, str, str]] = []  # owner, class, method, command
    for owner, cls in _GROUPS:
        methods = _methods(cls)
        for method in methods:
            base = method.removeprefix("iter_")
            found.append((owner, cls, method, kebab(base) + ("-page" if f"iter_{method}" in methods else "")))
    commands_of = {method: name for _, _, method, name in found}
    made: list[EndpointCommand] = []
    for owner, cls, method, name in found:
        walks = method.startswith("iter_")
        func = getattr(cls, method)
        options = _options(func)
        spec = specs.get(method.removeprefix("iter_"))
        names = {o.param: o.flag for o in options}
        doc = inspect.getdoc(func) or ""
        text_names = {**commands_of, **names}
        described = (plain(_drop_python(p), text_names) for p in paragraphs(doc))
        made.append(EndpointCommand(
            name=name, group=owner, purpose=summary(doc, text_names),
            description="\n\n".join(p for p in described if p),
            weight="" if spec is None else weight_text(spec) + ("/call" if walks else ""),
            signed=spec is None or spec.signed, names={**names, f"{method}()": name},
            owner=owner, method=method, spec=spec, options=options, walks=walks,
        ))
    return _with_checks(made)


def _with_checks(commands: list[EndpointCommand]) -> list[EndpointCommand]:
    """Give each money move the read-only command that shows whether it went through.

    Its own history (``repay`` -> ``repay-history``), else the setting it sets
    (``set-delta-mode`` -> ``delta-mode``), else the balances.
    """
    by_name = {c.name: c for c in commands}
    out = []
    for c in commands:
        if c.moves_money:
            check = next(
                (n for n in (f"{c.name}-history", c.name.removeprefix("set-"), "balance")
                 if n in by_name and not by_name[n].moves_money),
                "",
            )
            takes = tuple(o.param for o in by_name[check].options if o.param in ("start", "asset")) \
                if check else ()
            note = (
                "Moves money or changes a setting: shows the request and asks on a terminal "
                "(--yes sends without asking; without a terminal it refuses). If the outcome is "
                f"unknown it exits 5: run {check or 'balance'} before sending it again."
            )
            c = attrs.evolve(c, check=check, check_options=takes,
                             description=f"{c.description}\n\n{note}")
        elif c.walks:
            c = attrs.evolve(c, description=f"{c.description}\n\nPrints one JSON line per row "
                             "as the walk goes (--table: one table at the end).")
        out.append(c)
    return out
