"""Plain values to the schema's classes (cattrs), and cattrs' errors to located problems.

The converter is strict where YAML is loose: a string is never taken for a number (nor a
number for a string), a mapping must be a mapping and a list a list. Text from the environment
(`EnvText`) is the exception: it is converted to the type its key wants. Durations are
``"500ms"``, ``"1s"``, ``"2m"``, ``"1h"`` or a number of seconds; times are quoted ``"HH:MM"``
or ``"HH:MM:SS"``; an unknown key is an error that suggests the closest known one.
"""

from __future__ import annotations

import difflib
import math
import re
import typing
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn

from trifix.config._source import EnvText
from trifix.config.errors import InvalidValue, KeyPath, is_secret
from trifix.config.schema import TlsConfig

__all__ = ["Failure", "converter", "failures", "parse_duration", "parse_time"]

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def parse_duration(value: object) -> timedelta:
    """A duration: ``"500ms"``, ``"1s"``, ``"2m"``, ``"1h"``, or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise InvalidValue('expected a duration like "1s" or "500ms"', got=value)
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidValue("expected a duration of zero or more seconds", got=value)
    return timedelta(seconds=seconds)


def parse_time(value: object) -> time:
    """A wall-clock time written as a quoted ``"HH:MM"`` or ``"HH:MM:SS"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 17:00 as 17 * 60 + 0; show what was probably written.
        written = f"{value // 60:02d}:{value % 60:02d}" if 0 <= value < 24 * 60 else str(value)
        raise InvalidValue(
            f'expected a time in quotes, such as "{written}"',
            got=value,
            hint=f'YAML reads an unquoted {written} as a number: write "{written}"',
        )
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is not None:
        hour, minute, second = (int(g) if g else 0 for g in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise InvalidValue('expected a time like "09:30" or "17:00:00"', got=value)


def _date(value: object, _: object) -> date:
    if isinstance(value, datetime):
        raise InvalidValue("expected a date such as 2026-12-25, not a date and time", got=value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidValue("expected a date such as 2026-12-25", got=value)


def _str(value: object, _: object) -> str:
    if isinstance(value, str):
        return str(value)
    scalar = isinstance(value, int | float | bool | date)
    raise InvalidValue("expected a string", got=value, hint="quote it" if scalar else "")


def _int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, EnvText):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise InvalidValue("expected a whole number", got=value)


def _float(value: object, _: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, EnvText):
        try:
            number = float(value.strip())
        except ValueError:
            raise InvalidValue("expected a number", got=value) from None
    else:
        raise InvalidValue("expected a number", got=value)
    if not math.isfinite(number):
        raise InvalidValue("expected a finite number", got=value)
    return number


def _decimal(value: object, _: object) -> Decimal:
    # Prices and quantities: a YAML number or numeric text, kept exact (never through float).
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidValue("expected a number", got=value)
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise InvalidValue("expected a number", got=value) from None
    if not result.is_finite():
        raise InvalidValue("expected a finite number", got=value)
    return result


def _bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, EnvText) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidValue("expected true or false", got=value)


def _tls(value: object, _: object) -> TlsConfig | None:
    """`ssl:` is true (TLS with the defaults), false or null (none), or a mapping."""
    if value is None or value is False:
        return None
    if value is True:
        return TlsConfig()
    if isinstance(value, EnvText) and value.strip().lower() in _TRUE | _FALSE:
        return TlsConfig() if value.strip().lower() in _TRUE else None
    if isinstance(value, dict):
        return converter.structure(value, TlsConfig)
    raise InvalidValue("expected true, false or a mapping of TLS settings", got=value)


def _is_tuple(cl: Any) -> bool:
    args = typing.get_args(cl)
    return typing.get_origin(cl) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_hook(cl: Any) -> Callable[[object, Any], tuple[Any, ...]]:
    item_type = typing.get_args(cl)[0]

    def structure(value: object, _: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise InvalidValue("expected a list", got=value)
        items, errors = [], []
        for index, item in enumerate(value):
            try:
                items.append(converter.structure(item, item_type))
            except Exception as exc:  # collected, with the index, like cattrs' own
                exc.add_note(cattrs.IterableValidationNote(f"@ index {index}", index, item_type))
                errors.append(exc)
        if errors:
            raise cattrs.IterableValidationError("While structuring a list", errors, cl)
        return tuple(items)

    return structure


def _is_literal(cl: Any) -> bool:
    origin: object = typing.get_origin(cl)
    return origin is typing.Literal


def _literal_hook(cl: Any) -> Callable[[object, Any], str]:
    choices = typing.get_args(cl)

    def structure(value: object, _: Any) -> str:
        if value not in choices:
            raise InvalidValue(f"expected one of {', '.join(choices)}", got=value)
        return str(value)  # not the EnvText it may be

    return structure


def _class_hook(cl: Any) -> Callable[[object, Any], Any]:
    generated = make_dict_structure_fn(cl, converter, _cattrs_forbid_extra_keys=True)

    def structure(value: object, _: Any) -> Any:
        if not isinstance(value, dict):
            raise InvalidValue("expected a mapping of keys to values", got=value)
        return generated(value, cl)

    return structure


converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
for _type, _hook in (
    (str, _str),
    (int, _int),
    (float, _float),
    (Decimal, _decimal),
    (bool, _bool),
    (date, _date),
    (timedelta, lambda v, _: parse_duration(v)),
    (time, lambda v, _: parse_time(v)),
    (TlsConfig | None, _tls),
):
    converter.register_structure_hook(_type, _hook)
converter.register_structure_hook_factory(_is_tuple, _tuple_hook)
converter.register_structure_hook_factory(_is_literal, _literal_hook)
converter.register_structure_hook_factory(attrs.has, _class_hook)


@attrs.frozen
class Failure:
    """One structuring error: the full key path and a message safe to show."""

    path: KeyPath
    message: str


def failures(exc: BaseException, path: KeyPath = ()) -> Iterator[Failure]:
    """Walk what cattrs raised and yield each leaf error with its key path."""
    if isinstance(exc, cattrs.BaseValidationError):
        for inner in exc.exceptions:
            yield from failures(inner, (*path, *_note_path(inner)))
        return
    if isinstance(exc, ForbiddenExtraKeysError):
        known = sorted(a.name for a in attrs.fields(exc.cl))
        for key in sorted(exc.extra_fields):
            yield Failure((*path, key), f"unknown key {key!r}{_suggest(key, known)}")
        return
    if isinstance(exc, KeyError):  # a required key is missing (noted as the attribute)
        yield Failure(path, "missing: this key is required")
        return
    if isinstance(exc, InvalidValue):
        full = (*path, *exc.key)
        yield Failure(full, exc.text(secret=is_secret(full)))
        return
    # Anything else is a converter bug; never show the value, it may be a secret.
    yield Failure(path, f"invalid value ({type(exc).__name__})")  # pragma: no cover


def _note_path(exc: BaseException) -> KeyPath:
    for note in getattr(exc, "__notes__", ()):
        if isinstance(note, cattrs.AttributeValidationNote):
            return (note.name,)
        if isinstance(note, cattrs.IterableValidationNote):
            return (note.index,)
    return ()


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; known keys: {', '.join(known)}"


def structure(data: object, cl: type[Any]) -> Any:
    """`data` as an instance of `cl`; raises what cattrs raises (see `failures`)."""
    return converter.structure(data, cl)
