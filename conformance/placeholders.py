"""Placeholders in script values: ``{now}``, ``{now-120s}``, ``{out_seq+2}``, ``{test_req_id}``.

A value is parsed once, when the script is loaded, into a `Template`: literal text and
placeholders. Rendering happens when the step runs, against the run's current time and
variables. The grammar is small on purpose:

* ``{now}``: the current UTC time as a FIX UTCTimestamp in milliseconds
  (``20261125-09:00:00.000``); ``{now-120s}``, ``{now+2m}``, ``{now+500ms}``, ``{now-1h}``
  shift it (``s`` is the default unit).
* ``{name}``: a variable: ``out_seq`` (the next MsgSeqNum the runner sends), ``in_seq`` (the next
  it expects), ``sender`` / ``target`` (the runner's and the engine's CompIDs), ``heartbeat``,
  the script's ``vars`` and whatever earlier steps ``set`` or ``capture``.
* ``{name+N}`` / ``{name-N}``: integer arithmetic on a numeric variable (``{out_seq+5}``).
* ``{{`` and ``}}`` are literal braces.

Patterns (``re:...`` in an expectation) are not templates: their braces are regex syntax.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

__all__ = ["BUILTIN_NAMES", "PlaceholderError", "Template", "format_timestamp"]

BUILTIN_NAMES: Final = frozenset({"now", "out_seq", "in_seq", "sender", "target", "heartbeat"})
_TOKEN: Final = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_BODY: Final = re.compile(
    r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:([+-])\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?)?\s*"
)
_UNITS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class PlaceholderError(ValueError):
    """A placeholder that cannot be parsed or rendered (the message says which and why)."""


def format_timestamp(when: datetime) -> str:
    """`when` as a FIX UTCTimestamp with milliseconds: ``YYYYMMDD-HH:MM:SS.sss``."""
    return when.strftime("%Y%m%d-%H:%M:%S.") + f"{when.microsecond // 1000:03d}"


@dataclass(frozen=True, slots=True)
class _Placeholder:
    name: str
    sign: int  # +1, -1, or 0 for no offset
    amount: float
    unit: str | None

    def render(self, now: datetime, variables: Mapping[str, object]) -> str:
        if self.name == "now":
            seconds = self.sign * self.amount * _UNITS[self.unit or "s"]
            return format_timestamp(now + timedelta(seconds=seconds))
        if self.name not in variables:
            raise PlaceholderError(f"{{{self.name}}} has no value yet")
        value = variables[self.name]
        if not self.sign:
            return str(value)
        try:
            base = int(str(value))
        except ValueError:
            raise PlaceholderError(
                f"{{{self.name}}} is {value!r}, not a number, so it takes no offset"
            ) from None
        return str(base + self.sign * int(self.amount))


@dataclass(frozen=True, slots=True)
class Template:
    """A value with placeholders, parsed once and rendered at run time.

    Args:
        text: the value as written in the script.

    Raises:
        PlaceholderError: a ``{...}`` that is not a placeholder (the message says why).
    """

    text: str
    parts: tuple[str | _Placeholder, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        """Parse `text`; raises `PlaceholderError` naming the bad placeholder."""
        parts: list[str | _Placeholder] = []
        pos = 0
        for token in _TOKEN.finditer(text):
            if token.start() > pos:
                parts.append(text[pos : token.start()])
            pos = token.end()
            if token[0] in ("{{", "}}"):
                parts.append(token[0][0])
                continue
            parts.append(_parse_placeholder(token[1]))
        if pos < len(text):
            parts.append(text[pos:])
        for piece in _TOKEN.split(text):
            if piece and ("{" in piece or "}" in piece):
                raise PlaceholderError(
                    f"unbalanced brace in {text!r}: write {{{{ or }}}} for a literal brace"
                )
        return cls(text, tuple(parts))

    @property
    def names(self) -> frozenset[str]:
        """The variable names the template reads (``now`` included when used)."""
        return frozenset(p.name for p in self.parts if isinstance(p, _Placeholder))

    @property
    def is_literal(self) -> bool:
        """True when the template has no placeholders."""
        return not self.names

    def render(self, now: datetime, variables: Mapping[str, object]) -> str:
        """The value at time `now` with `variables`.

        Raises:
            PlaceholderError: a variable that has no value, or an offset on a non-number.
        """
        return "".join(p if isinstance(p, str) else p.render(now, variables) for p in self.parts)


def _parse_placeholder(body: str) -> _Placeholder:
    match = _BODY.fullmatch(body)
    if match is None:
        raise PlaceholderError(
            f"bad placeholder {{{body}}}: write {{name}}, {{name+N}}, {{now-120s}}, "
            "or {{ and }} for literal braces"
        )
    name, sign, amount, unit = match.groups()
    if unit is not None and name != "now":
        raise PlaceholderError(f"bad placeholder {{{body}}}: time units only apply to {{now}}")
    if sign is not None and name != "now" and "." in amount:
        raise PlaceholderError(f"bad placeholder {{{body}}}: offsets of numbers are integers")
    return _Placeholder(
        name=name,
        sign=0 if sign is None else (1 if sign == "+" else -1),
        amount=float(amount) if amount is not None else 0.0,
        unit=unit,
    )
