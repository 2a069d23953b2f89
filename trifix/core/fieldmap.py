"""Reading fields: `FieldMap` (raw and typed lookups by tag), repeating-group entries.

`FieldMap` is the base of `trifix.core.message.Message` and of `Group`: fields in wire order as
two parallel lists (tags as ASCII bytes such as ``b"35"``, raw values), plus a dict from tag to
the position of its value. Typed getters (`get_int`, `get_decimal`, `get_utc_timestamp`,
`get_enum`...) convert only the field asked for and turn a bad value into `FieldValueError`
naming the tag. `group(count_tag)` reads a repeating group with the layout the FIX 4.4
dictionary gives it (`read_group`). Building, parsing, changing and encoding whole messages is
`trifix.core.message`'s business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, overload

from trifix.core.dictionary import GroupDef, Structure
from trifix.core.errors import FieldValueError, LocalProtocolError
from trifix.core.fields import (
    MonthYear,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
    parse_month_year,
    parse_utc_time_only,
    parse_utc_timestamp,
)

__all__ = ["FieldMap", "Group", "SharedIndex", "read_group", "tag_key"]

T = TypeVar("T")
E = TypeVar("E", bound=Enum)
_MISSING: Any = object()

_KEYS: dict[int, bytes] = {}


class SharedIndex(dict[bytes, int]):
    """The tag index of one message *shape* (its sequence of tags): tag -> position of its last
    occurrence. Parsed messages of the same shape share one; it is never modified (a message
    copies it before its first change, see `FieldMap._own_index`)."""

    __slots__ = ()


def tag_key(tag: int) -> bytes:
    """The bytes key of a tag number (``34`` → ``b"34"``), cached."""
    key = _KEYS.get(tag)
    if key is None:
        if tag <= 0:
            raise LocalProtocolError(f"tag numbers are positive integers, not {tag}")
        key = _KEYS[int(tag)] = b"%d" % tag
    return key


_ENUM_TABLES: dict[type[Enum], dict[bytes, Any]] = {}
"""Each enum's members by their value as written on the wire, built on first use."""


class FieldMap:
    """Fields in wire order with O(1) lookup by tag: the base of `Message` and `Group`.

    Lookups accept any int (a `Tag` member or a plain number). When a tag occurs more than once
    at this level (only legal inside repeating groups), lookup returns the last occurrence; read
    groups through `group()`.
    """

    __slots__ = ("_index", "_tags", "_values")

    def __init__(self, tags: list[bytes], values: list[bytes]) -> None:
        self._tags = tags
        self._values = values
        self._index: dict[bytes, int] | None = dict(zip(tags, range(len(values)), strict=True))

    def _map(self) -> dict[bytes, int]:
        """The tag index (tag -> position of its value), built on first use for messages built
        in code (a message being sent is rarely read, so building it eagerly would be wasted
        work). A parsed message's index is its shape's `SharedIndex`: never modify the result
        in place, go through `_own_index`."""
        index = self._index
        if index is None:
            index = self._index = dict(zip(self._tags, range(len(self._tags))))
        return index

    def _own_index(self) -> dict[bytes, int]:
        """The index, ready to be modified: copied first if other messages share it."""
        index = self._map()
        if type(index) is SharedIndex:
            index = self._index = dict(index)
        return index

    def _inserted(self, i: int, key: bytes) -> None:
        """Keep a built index in step with `key` just inserted at position `i`."""
        index = self._index
        if index is not None:
            index = self._index = {k: p + 1 if p >= i else p for k, p in index.items()}
            index[key] = i

    # -- raw access ---------------------------------------------------------------------
    # Lookups inline `_map()` and `tag_key()`'s cache hit: they are on every reader's path.
    def __contains__(self, tag: int) -> bool:
        index = self._index
        if index is None:
            index = self._map()
        return (_KEYS.get(tag) or tag_key(tag)) in index

    def __getitem__(self, tag: int) -> bytes:
        index = self._index
        if index is None:
            index = self._map()
        pos = index.get(_KEYS.get(tag) or tag_key(tag))
        if pos is None:
            raise KeyError(tag)
        return self._values[pos]

    def __len__(self) -> int:
        return len(self._tags)

    def get(self, tag: int, default: T | None = None) -> bytes | T | None:
        """The raw value of `tag`, or `default` when absent."""
        index = self._index
        if index is None:
            index = self._map()
        pos = index.get(_KEYS.get(tag) or tag_key(tag))
        return default if pos is None else self._values[pos]

    def fields(self) -> Iterator[tuple[int, bytes]]:
        """Every (tag, raw value) pair in wire order, group members included."""
        for k, v in zip(self._tags, self._values, strict=True):
            yield (int(k) if k.isdigit() else -1), v

    def tag_keys(self) -> list[bytes]:
        """The tags as the raw bytes seen on the wire, in order (for validation and tools)."""
        return self._tags

    def raw_values(self) -> list[bytes]:
        """The raw values in wire order, parallel to `tag_keys()`."""
        return self._values

    # -- typed access -------------------------------------------------------------------
    def _convert(self, tag: int, conv: Callable[[bytes], T], default: Any, what: str) -> Any:
        index = self._index
        if index is None:
            index = self._map()
        pos = index.get(_KEYS.get(tag) or tag_key(tag))
        if pos is None:
            if default is _MISSING:
                raise FieldValueError(tag, f"tag {tag} is missing", missing=True)
            return default
        raw = self._values[pos]
        try:
            return conv(raw)
        except ValueError as exc:
            raise FieldValueError(tag, f"tag {tag}: {raw!r} is not a valid {what}") from exc

    @overload
    def get_str(self, tag: int) -> str: ...
    @overload
    def get_str(self, tag: int, default: T) -> str | T: ...
    def get_str(self, tag: int, default: Any = _MISSING) -> Any:
        """The value as text (UTF-8; undecodable bytes are kept as surrogate escapes)."""
        return self._convert(tag, _decode, default, "string")

    @overload
    def get_int(self, tag: int) -> int: ...
    @overload
    def get_int(self, tag: int, default: T) -> int | T: ...
    def get_int(self, tag: int, default: Any = _MISSING) -> Any:
        """The value as an int (INT, SEQNUM, LENGTH, NUMINGROUP)."""
        return self._convert(tag, parse_int, default, "integer")

    @overload
    def get_decimal(self, tag: int) -> Decimal: ...
    @overload
    def get_decimal(self, tag: int, default: T) -> Decimal | T: ...
    def get_decimal(self, tag: int, default: Any = _MISSING) -> Any:
        """The value as an exact Decimal (PRICE, QTY, AMT, FLOAT...)."""
        return self._convert(tag, parse_decimal, default, "decimal")

    @overload
    def get_bool(self, tag: int) -> bool: ...
    @overload
    def get_bool(self, tag: int, default: T) -> bool | T: ...
    def get_bool(self, tag: int, default: Any = _MISSING) -> Any:
        """The value as a bool (Y/N)."""
        return self._convert(tag, parse_bool, default, "boolean (Y/N)")

    @overload
    def get_utc_timestamp(self, tag: int) -> datetime: ...
    @overload
    def get_utc_timestamp(self, tag: int, default: T) -> datetime | T: ...
    def get_utc_timestamp(self, tag: int, default: Any = _MISSING) -> Any:
        """The value as an aware UTC datetime (seconds, ms or µs precision)."""
        return self._convert(tag, parse_utc_timestamp, default, "UTCTimestamp")

    @overload
    def get_utc_time_only(self, tag: int) -> time: ...
    @overload
    def get_utc_time_only(self, tag: int, default: T) -> time | T: ...
    def get_utc_time_only(self, tag: int, default: Any = _MISSING) -> Any:
        """The value as a UTC time of day (UTCTimeOnly)."""
        return self._convert(tag, parse_utc_time_only, default, "UTCTimeOnly")

    @overload
    def get_date(self, tag: int) -> date: ...
    @overload
    def get_date(self, tag: int, default: T) -> date | T: ...
    def get_date(self, tag: int, default: Any = _MISSING) -> Any:
        """The value as a date (LocalMktDate, UTCDateOnly: YYYYMMDD)."""
        return self._convert(tag, parse_date, default, "date (YYYYMMDD)")

    get_local_mkt_date = get_date

    @overload
    def get_month_year(self, tag: int) -> MonthYear: ...
    @overload
    def get_month_year(self, tag: int, default: T) -> MonthYear | T: ...
    def get_month_year(self, tag: int, default: Any = _MISSING) -> Any:
        """The value as a MonthYear (YYYYMM, YYYYMMDD or YYYYMMwN)."""
        return self._convert(tag, parse_month_year, default, "MonthYear")

    @overload
    def get_char(self, tag: int) -> str: ...
    @overload
    def get_char(self, tag: int, default: T) -> str | T: ...
    def get_char(self, tag: int, default: Any = _MISSING) -> Any:
        """The value as a single character."""
        return self._convert(tag, _char, default, "char")

    @overload
    def get_multi(self, tag: int) -> list[str]: ...
    @overload
    def get_multi(self, tag: int, default: T) -> list[str] | T: ...
    def get_multi(self, tag: int, default: Any = _MISSING) -> Any:
        """A MULTIPLEVALUESTRING as its space-separated values."""
        return self._convert(tag, _multi, default, "multiple-value string")

    @overload
    def get_enum(self, tag: int, enum: type[E]) -> E: ...
    @overload
    def get_enum(self, tag: int, enum: type[E], default: T) -> E | T: ...
    def get_enum(self, tag: int, enum: type[E], default: Any = _MISSING) -> Any:
        """The value as a member of `enum` (an IntEnum or StrEnum of the field's values)."""
        table = _ENUM_TABLES.get(enum)
        if table is None:
            table = _ENUM_TABLES[enum] = {str(m.value).encode("latin-1"): m for m in enum}
        raw = self.get(tag)
        if raw is not None:
            member = table.get(raw)
            if member is not None:  # the value as the enum writes it: one dict lookup
                return member

        def conv(raw: bytes) -> E:  # anything else: parsed, or refused with the reason
            sample = next(iter(enum)).value
            # parse_int, not int(): int() takes " 5", "+5" and "1_0", which are not FIX ints.
            return enum(parse_int(raw) if isinstance(sample, int) else raw.decode("latin-1"))

        return self._convert(tag, conv, default, enum.__name__)

    # -- repeating groups -----------------------------------------------------------------
    def _structure(self) -> Structure:
        raise NotImplementedError

    def group(self, count_tag: int) -> list[Group]:
        """The entries of the repeating group whose NumInGroup tag is `count_tag`.

        Returns an empty list when the group is absent. The layout comes from the dictionary
        (for a message, by its MsgType; for a group entry, from the enclosing group).
        """
        structure = self._structure()
        gdef = structure.groups.get(count_tag)
        if gdef is None:
            raise LocalProtocolError(f"tag {count_tag} is not a repeating group here")
        key = tag_key(count_tag)
        tags = self._tags
        # Find the count field at this level: skip over the contents of other groups.
        i = 0
        n = len(tags)
        groups = structure.group_keys
        while i < n:
            k = tags[i]
            i += 1
            if k == key:
                return read_group(tags, self._values, i, gdef)[0]
            g = groups.get(k)
            if g is not None:
                i = read_group(tags, self._values, i, g)[1]
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"

    def __str__(self) -> str:
        return "|".join(
            f"{k.decode('latin-1')}={v.decode('latin-1')}"
            for k, v in zip(self._tags, self._values, strict=True)
        )


class Group(FieldMap):
    """One entry of a repeating group; nested groups are read with `group()` as well."""

    __slots__ = ("definition",)

    def __init__(self, tags: list[bytes], values: list[bytes], definition: GroupDef) -> None:
        super().__init__(tags, values)
        self.definition = definition

    def _structure(self) -> Structure:
        return self.definition.entry


def read_group(
    tags: list[bytes], values: list[bytes], start: int, gdef: GroupDef
) -> tuple[list[Group], int]:
    """Read the entries of `gdef` from position `start` (just after its count field).

    An entry starts at the delimiter and takes every following field of the group's layout
    (nested groups included) until a field outside the layout, a repeat of a field already in
    the entry, or the next delimiter. Returns the entries and the position after the group.
    """
    entry = gdef.entry
    delim = gdef.delimiter_key
    members = entry.keys
    nested = entry.group_keys
    n = len(tags)
    i = start
    out: list[Group] = []
    while i < n and tags[i] == delim:
        first = i
        seen = {delim}
        i += 1
        while i < n:
            k = tags[i]
            if k not in members or k in seen:
                break
            seen.add(k)
            i += 1
            sub = nested.get(k)
            if sub is not None:
                i = read_group(tags, values, i, sub)[1]
        out.append(Group(tags[first:i], values[first:i], gdef))
    return out, i


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _char(raw: bytes) -> str:
    if len(raw) != 1:
        raise ValueError("not a single character")
    return raw.decode("latin-1")


def _multi(raw: bytes) -> list[str]:
    parts = raw.decode("latin-1").split(" ")
    if not all(parts):
        raise ValueError("empty value in a multiple-value string")
    return parts
