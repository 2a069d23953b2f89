"""The conversion between typed messages (attrs classes) and wire `Message`s.

A typed message is a frozen attrs class whose attribute names are the snake_case of FIX field
names (``cl_ord_id`` is ClOrdID, tag 11), so most attributes need no declaration beyond their
type. `fix(...)` metadata covers the rest: another tag (``entries`` is NoMDEntries), a repeating
group of single values (``symbols`` is NoRelatedSym's Symbols), a field that lives in the first
entry of a group (QuoteRequest's Symbol is inside NoRelatedSym) and "now when absent" for the
TransactTime of requests. The attribute's type says how to read the value: str, int, Decimal,
bool, datetime (UTCTimestamp), time (UTCTimeOnly), date, an enum from `trifix.core.tags`, a
tuple of an entry class (a repeating group) or a tuple of one of the former (a group of single
values).

Fields a class does not model are kept in its ``extra`` attribute in wire order (header and
trailer aside: the session owns those) and written back after the modelled ones, so a message
passed through its typed form keeps custom and unmodelled fields. The plan for each class is
worked out once, on first use.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar, Self

import attrs

from trifix.core.dictionary import Dictionary, Structure
from trifix.core.errors import FieldValueError
from trifix.core.fields import (
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
    parse_utc_time_only,
    parse_utc_timestamp,
)
from trifix.core.message import FieldMap, Message
from trifix.core.tags import Tag
from trifix.trading.errors import TradingMessageError

_META = "trifix.fix"
Extra = tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class FixMeta:
    """How one attribute maps to the wire, when its name alone does not say.

    Attributes:
        tag: the field's tag (for a group: its count tag).
        item: for a group of single values, the tag of the value in each entry.
        in_group: the count tag of the group whose first entry holds this field.
        now_if_absent: write the current time when the attribute is None.
    """

    tag: int | None = None
    item: int | None = None
    in_group: int | None = None
    now_if_absent: bool = False


def fix(
    tag: int | None = None,
    *,
    item: int | None = None,
    in_group: int | None = None,
    now_if_absent: bool = False,
) -> dict[str, FixMeta]:
    """attrs metadata for an attribute: ``x: T = attrs.field(default=None, metadata=fix(...))``."""
    return {_META: FixMeta(tag, item, in_group, now_if_absent)}


_Parse = Callable[[bytes], Any]


def _parse_str(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _enum_parser(cls: type[enum.Enum]) -> _Parse:
    if issubclass(cls, int):

        def parse_int_enum(raw: bytes) -> Any:
            return cls(int(raw))

        return parse_int_enum

    def parse_str_enum(raw: bytes) -> Any:
        return cls(raw.decode("ascii"))

    return parse_str_enum


_SCALARS: Mapping[Any, _Parse] = {
    str: _parse_str,
    int: parse_int,
    Decimal: parse_decimal,
    bool: parse_bool,
    datetime: parse_utc_timestamp,
    date: parse_date,
    time: parse_utc_time_only,
}


def _scalar_parser(tp: Any) -> _Parse | None:
    if tp in _SCALARS:
        return _SCALARS[tp]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_parser(tp)
    return None


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


@dataclass(frozen=True, slots=True)
class _Attr:
    name: str
    tag: int
    required: bool
    parse: _Parse | None  # a scalar, or each item of a group of values
    entry: type[WireEntry] | None = None  # a group of entries
    item: int | None = None  # a group of single values: the value's tag
    in_group: int | None = None
    now_if_absent: bool = False

    @property
    def is_group(self) -> bool:
        return self.entry is not None or self.item is not None


@dataclass(frozen=True, slots=True)
class _Plan:
    attrs: tuple[_Attr, ...]
    known: frozenset[bytes]
    """Tags (as keys) that are not "extra": modelled ones, whole modelled groups, header."""
    orders: Mapping[int, Mapping[int, int]]
    """For each group (by count tag): the position of each entry field in the dictionary, so
    entries are written in the order receivers check (unknown tags go last)."""
    flat: bool = False
    """No group, no field in a group and no header field: `to_message` writes the attributes
    in one `Message.new`."""


_DICTIONARY = Dictionary.fix44()
_ENVELOPE = frozenset(
    str(tag).encode()
    for tag in (*_DICTIONARY.header.fields, *_DICTIONARY.trailer.fields, Tag.SIGNATURE)
)


def _group_tags(structure: Structure) -> Iterable[int]:
    for tag in structure.fields:
        yield tag
        group = structure.groups.get(tag)
        if group is not None:
            yield from _group_tags(group.entry)


class WireEntry:
    """Base of the typed classes: conversion to and from wire fields.

    Subclasses are frozen attrs classes with an ``extra`` attribute (see the module docs).
    """

    __slots__ = ()
    _plans: ClassVar[dict[type, _Plan]] = {}
    extra: Extra

    @classmethod
    def _plan(cls) -> _Plan:
        plan = WireEntry._plans.get(cls)
        if plan is None:
            plan = WireEntry._plans[cls] = _make_plan(cls)
        return plan

    @classmethod
    def _describe(cls) -> str:
        return getattr(cls, "MSG_TYPE", cls.__name__)

    @classmethod
    def from_fields(cls, fields: FieldMap, groups: Structure | None = None) -> Self:
        """Read the attributes from `fields` (a message or a group entry).

        Raises:
            TradingMessageError: a required field is missing or a value cannot be read.
        """
        plan = cls._plan()
        values: dict[str, Any] = {}
        firsts: dict[int, FieldMap | None] = {}
        for attr in plan.attrs:
            source: FieldMap | None = fields
            if attr.in_group is not None:
                if attr.in_group not in firsts:
                    entries = _group(cls, fields, attr.in_group)
                    if len(entries) > 1:
                        raise TradingMessageError(
                            cls._describe(),
                            f"{len(entries)} entries where one is supported",
                            attr.in_group,
                        )
                    firsts[attr.in_group] = entries[0] if entries else None
                source = firsts[attr.in_group]
            if attr.is_group:
                entries = _group(cls, fields, attr.tag)
                if attr.entry is not None:
                    values[attr.name] = tuple(attr.entry.from_fields(e) for e in entries)
                else:
                    values[attr.name] = tuple(
                        _read(cls, e, attr.item, attr.parse, required=True)  # type: ignore[arg-type]
                        for e in entries
                    )
                if attr.required and not entries:
                    raise TradingMessageError(cls._describe(), "required group missing", attr.tag)
                continue
            value = _read(cls, source, attr.tag, attr.parse, required=attr.required)
            if value is not None:
                values[attr.name] = value
        known = plan.known
        values["extra"] = tuple(
            (int(key), _parse_str(raw))
            for key, raw in _fields_with_keys(fields)
            if key not in known
        )
        return cls(**values)

    def wire_fields(self) -> list[tuple[int, Any]]:
        """The attributes as (tag, value) pairs, groups as lists of entries, then ``extra``."""
        pairs: list[tuple[int, Any]] = []
        in_group: dict[int, list[tuple[int, Any]]] = {}
        plan = self._plan()
        for attr in plan.attrs:
            value = getattr(self, attr.name)
            if attr.entry is not None:
                if value or attr.required:
                    order = plan.orders.get(attr.tag)
                    entries = [entry.wire_fields() for entry in value]
                    if order is not None:
                        entries = [_in_order(entry, order) for entry in entries]
                    pairs.append((attr.tag, entries))
            elif attr.item is not None:
                if value or attr.required:
                    pairs.append((attr.tag, [[(attr.item, item)] for item in value]))
            else:
                if value is None and attr.now_if_absent:
                    value = datetime.now(UTC)
                if value is None:
                    continue
                if attr.in_group is not None:
                    in_group.setdefault(attr.in_group, []).append((attr.tag, value))
                else:
                    pairs.append((attr.tag, value))
        pairs.extend(
            (tag, [_in_order(entry, plan.orders.get(tag, {}))]) for tag, entry in in_group.items()
        )
        pairs.extend(self.extra)
        return pairs


class WireMessage(WireEntry):
    """A typed application message: `to_message` and `from_message`."""

    __slots__ = ()
    MSG_TYPE: ClassVar[str]

    @classmethod
    def from_message(cls, msg: Message) -> Self:
        """The typed form of `msg`.

        Raises:
            TradingMessageError: `msg` is another MsgType, lacks a required field, or holds a
                value that cannot be read.
        """
        if msg.msg_type != cls.MSG_TYPE:
            raise TradingMessageError(
                msg.msg_type, f"is not a {cls.__name__} ({cls.MSG_TYPE})", Tag.MSG_TYPE
            )
        return cls.from_fields(msg)

    def to_message(self) -> Message:
        """A new wire message (header fields are the session's to add)."""
        plan = self._plan()
        if plan.flat and not self.extra:  # what the loop below would write, in one call
            pairs: list[tuple[int, Any]] = []
            for attr in plan.attrs:
                value = getattr(self, attr.name)
                if value is None:
                    if not attr.now_if_absent:
                        continue
                    value = datetime.now(UTC)
                elif isinstance(value, list):
                    break  # a list is written as a group, by the loop below
                pairs.append((attr.tag, value))
            else:
                return Message.new(self.MSG_TYPE, *pairs)
        msg = Message.new(self.MSG_TYPE)
        for tag, value in self.wire_fields():
            if isinstance(value, list):
                msg.add_group(tag, value)
            else:
                msg.append(tag, value)
        return msg


def _in_order(entry: list[tuple[int, Any]], order: Mapping[int, int]) -> list[tuple[int, Any]]:
    last = len(order)
    return sorted(entry, key=lambda pair: order.get(pair[0], last))


def _group(cls: type[WireEntry], fields: FieldMap, count_tag: int) -> list[Any]:
    try:
        return fields.group(count_tag)
    except (FieldValueError, ValueError, KeyError) as exc:
        raise TradingMessageError(
            cls._describe(), f"bad repeating group: {exc}", count_tag
        ) from exc


def _read(
    cls: type[WireEntry], fields: FieldMap | None, tag: int, parse: _Parse | None, *, required: bool
) -> Any:
    raw = fields.get(tag) if fields is not None else None
    if raw is None:
        if required:
            raise TradingMessageError(cls._describe(), "required field missing", tag)
        return None
    try:
        return parse(raw) if parse is not None else raw
    except (FieldValueError, ValueError) as exc:
        raise TradingMessageError(cls._describe(), f"invalid value {raw!r}", tag) from exc


def _fields_with_keys(fields: FieldMap) -> Iterable[tuple[bytes, bytes]]:
    """(key, value) pairs outside the envelope, keys kept as bytes for the `known` check."""
    return (
        (key, value)
        for key, value in zip(fields.tag_keys(), fields.raw_values())
        if key not in _ENVELOPE
    )


def _make_plan(cls: type) -> _Plan:
    attrs.resolve_types(cls)
    msg_type = getattr(cls, "MSG_TYPE", None)
    definition = _DICTIONARY.message(msg_type) if msg_type else None
    structure = definition.body if definition is not None else None
    planned: list[_Attr] = []
    known: set[int] = set()
    for field in attrs.fields(cls):
        if field.name == "extra":
            continue
        meta: FixMeta = field.metadata.get(_META, FixMeta())
        tag = meta.tag if meta.tag is not None else int(Tag[field.name.upper()])
        required = field.default is attrs.NOTHING
        tp = _strip_optional(field.type)
        entry: type[WireEntry] | None = None
        parse = _scalar_parser(tp)
        if typing.get_origin(tp) is tuple:
            inner = typing.get_args(tp)[0]
            if isinstance(inner, type) and issubclass(inner, WireEntry):
                entry = inner
            else:
                parse = _scalar_parser(inner)
                if meta.item is None or parse is None:
                    raise TypeError(f"{cls.__name__}.{field.name}: a group of values needs item=")
            known.add(tag)
            if structure is not None and tag in structure.groups:
                known.update(_group_tags(structure.groups[tag].entry))
        elif parse is None:
            raise TypeError(f"{cls.__name__}.{field.name}: unsupported type {tp!r}")
        if meta.in_group is not None:
            known.add(meta.in_group)
            if structure is not None and meta.in_group in structure.groups:
                known.update(_group_tags(structure.groups[meta.in_group].entry))
        known.add(tag)
        planned.append(
            _Attr(
                field.name,
                tag,
                required,
                parse,
                entry,
                meta.item,
                meta.in_group,
                meta.now_if_absent,
            )
        )
    keys = frozenset(str(tag).encode() for tag in known)
    orders: dict[int, Mapping[int, int]] = {}
    if structure is not None:
        for count_tag, group in structure.groups.items():
            orders[count_tag] = {tag: i for i, tag in enumerate(group.entry.fields)}
    header = _DICTIONARY.header.fields
    flat = all(
        a.entry is None and a.item is None and a.in_group is None and a.tag not in header
        for a in planned
    )
    return _Plan(tuple(planned), keys, orders, flat)
