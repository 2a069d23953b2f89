"""FIX messages: a light view over the wire bytes, with typed access and repeating groups.

A `Message` keeps its fields as two parallel lists in wire order, tags as ASCII byte strings
(``b"35"``) and values as raw bytes, plus a dict from tag to the position of its value for O(1)
lookup. Parsed messages of the same *shape* (the same tags in the same order) share that dict,
so parsing a frame is a handful of C-level operations (split, slice, join, one lookup) with no
per-field Python work; conversions (int, Decimal, timestamps...) happen only for the fields the
caller reads. See docs/decisions/ADR-001-message-representation.md and ADR-002 for the
measurements behind this.

BeginString (8), BodyLength (9) and CheckSum (10) are framing, not fields of the list: the
encoder writes them and the framer checks them. MsgType (35) is always the first field.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Final, TypeVar, overload
from zlib import adler32

from trifix.core.dictionary import Dictionary, GroupDef, Structure
from trifix.core.errors import FieldValueError, GarbledMessageError, LocalProtocolError
from trifix.core.fields import (
    MonthYear,
    format_value,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
    parse_month_year,
    parse_utc_time_only,
    parse_utc_timestamp,
)
from trifix.core.tags import MsgType, Tag

SOH: Final = b"\x01"
_EQ: Final = b"="
_MSG_TYPE_KEY: Final = b"35"

T = TypeVar("T")
E = TypeVar("E", bound=Enum)
_MISSING: Any = object()

_FIX44 = Dictionary.fix44()
_HEADER_KEYS: Final = frozenset(_FIX44.header.keys)
# The fields of header groups (NoHops) belong in the header too, after their count field.
_HEADER_GROUP_KEYS: Final = frozenset(
    k for g in _FIX44.header.groups.values() for k in g.entry.keys
)
_HEADER_SIDE: Final = _HEADER_KEYS | _HEADER_GROUP_KEYS
_LENGTH_KEYS: Final = {b"%d" % k: b"%d" % v for k, v in _FIX44.length_fields.items()}
_LENGTH_SET: Final = frozenset(_LENGTH_KEYS)
# Only '=' and SOH survive this deletion; a well-formed frame leaves "=\x01" repeated.
_NOT_DELIMITERS: Final = bytes(b for b in range(256) if b not in (0x01, 0x3D))
_ALTERNATION: Final = b"=\x01" * 4096

_KEYS: dict[int, bytes] = {}


class SharedIndex(dict[bytes, int]):
    """The tag index of one message *shape* (its sequence of tags): tag -> position of its last
    occurrence. Parsed messages of the same shape share one; it is never modified (a message
    copies it before its first change, see `FieldMap._own_index`)."""

    __slots__ = ()


# Shapes seen on the wire, keyed by their tags joined with "=" (a tag never holds one). A
# steady flow has a few dozen; the bound only limits what garbage can make us hold.
_SHAPES: Final[dict[bytes, SharedIndex]] = {}
_MAX_SHAPES: Final = 1024
# The marker for a shape with a data-length field: its frames take the field-by-field path.
_DATA_SHAPE: Final = SharedIndex()


def learn_shape(key: bytes, tags: list[bytes]) -> SharedIndex:
    """Index the shape `tags` (joined with "=" as `key`) and remember it; `_DATA_SHAPE` when it
    holds a data-length field, whose data may contain delimiters."""
    index = SharedIndex(zip(tags, range(len(tags))))
    if not _LENGTH_SET.isdisjoint(index):
        index = _DATA_SHAPE
    if len(_SHAPES) >= _MAX_SHAPES:
        _SHAPES.clear()
    _SHAPES[key] = index
    return index


def tag_key(tag: int) -> bytes:
    """The bytes key of a tag number (``34`` → ``b"34"``), cached."""
    key = _KEYS.get(tag)
    if key is None:
        if tag <= 0:
            raise LocalProtocolError(f"tag numbers are positive integers, not {tag}")
        key = _KEYS[int(tag)] = b"%d" % tag
    return key


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The FIX CheckSum of `data`: the sum of its bytes modulo 256.

    zlib's Adler-32 keeps a plain byte sum (plus one) in its low 16 bits while that sum stays
    under 65521, which holds for any 256-byte chunk; summing chunk by chunk in C is several
    times faster than ``sum(data)`` for typical FIX message sizes.
    """
    n = len(data)
    if n <= 256:
        return ((zlib.adler32(data) & 0xFFFF) - 1) & 0xFF
    # ASCII bytes are at most 127, so 515 of them still sum below 65521: fewer, bigger chunks.
    step = 515 if not isinstance(data, memoryview) and data.isascii() else 256
    if n <= step:
        return ((zlib.adler32(data) & 0xFFFF) - 1) & 0xFF
    view = memoryview(data)
    total = 0
    for i in range(0, n, step):
        total += (zlib.adler32(view[i : i + step]) & 0xFFFF) - 1
    return total & 0xFF


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


class Message(FieldMap):
    """A FIX message: header, body and trailer fields in wire order (8, 9 and 10 excluded).

    Build one with `Message.new(MsgType.NEW_ORDER_SINGLE, (Tag.CL_ORD_ID, "A1"), ...)` or
    receive one from the `Framer`. Parsed messages keep their frame in `raw` until modified.
    """

    __slots__ = ("begin_string", "raw")

    def __init__(
        self,
        tags: list[bytes],
        values: list[bytes],
        *,
        begin_string: bytes = b"FIX.4.4",
        raw: bytes | None = None,
    ) -> None:
        super().__init__(tags, values)
        self.begin_string = begin_string
        self.raw = raw

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def new(cls, msg_type: str, *fields: tuple[int, Any]) -> Message:
        """A new message of `msg_type` with the given (tag, value) fields, in order.

        Values are formatted with `trifix.core.fields.format_value` (str, int, Decimal, bool,
        datetime, date, enums...). Header fields are placed in the header, after MsgType.
        """
        tags: list[bytes] = [_MSG_TYPE_KEY]
        values: list[bytes] = [_MT_BYTES.get(msg_type) or str(msg_type).encode()]
        keys = _KEYS
        header = _HEADER_SIDE
        in_body = False
        misplaced = False  # a header field given after a body field
        for tag, value in fields:
            key = keys.get(tag) or tag_key(tag)
            tags.append(key)
            values.append(value.encode() if type(value) is str else format_value(value))
            if key in header:
                misplaced |= in_body
            else:
                in_body = True
        if misplaced:  # move header fields forward, keeping each side's order
            order = sorted(range(1, len(tags)), key=lambda i: tags[i] not in header)
            tags[1:] = [tags[i] for i in order]
            values[1:] = [values[i] for i in order]
        msg = cls.__new__(cls)
        msg._tags = tags
        msg._values = values
        msg._index = None  # built on first lookup
        msg.begin_string = b"FIX.4.4"
        msg.raw = None
        return msg

    @classmethod
    def from_frame(cls, frame: bytes) -> Message:
        """Split a complete, already framed message (8=...|9=...|...|10=...|) into fields.

        The framer has checked 8, 9, 35 and 10; this only splits. Raises GarbledMessageError
        when `frame` does not even look like a frame (8= first, 10=NNN last), when a field has
        no '=', or when a length-prefixed data field overruns.
        """
        if (
            frame[:2] != b"8="
            or frame[-7:-4] != b"10="
            or frame[-1:] != SOH
            or SOH not in frame[:-7]
        ):
            raise GarbledMessageError("not a framed FIX message (8= ... 10=NNN)")
        end = len(frame) - 7  # "10=NNN\x01"
        delims = frame.translate(None, _NOT_DELIMITERS)
        if len(delims) & 1 == 0 and _ALTERNATION.startswith(delims):
            parts = frame.replace(_EQ, SOH).split(SOH)
            tags = parts[4:-3:2]
            key = _EQ.join(tags)
            index = _SHAPES.get(key)
            if index is None:
                index = learn_shape(key, tags)
            if index is not _DATA_SHAPE:
                # Built slot by slot: this is the hot path of every received message.
                msg = cls.__new__(cls)
                msg._tags = tags
                msg._values = parts[5:-3:2]
                msg._index = index
                msg.begin_string = parts[1]
                msg.raw = frame
                return msg
        # Slow path: data fields may hold '=' and SOH, so walk field by field.
        first = frame.index(SOH) + 1
        start = frame.index(SOH, first) + 1
        begin_string = frame[2 : first - 1]
        tags = []
        values: list[bytes] = []
        data_len: int | None = None
        pos = start
        while pos < end:
            eq = frame.find(_EQ, pos, end)
            key = frame[pos:eq]
            if eq < 0 or 1 in key:  # an SOH in the key: this '=' belongs to a later field
                raise GarbledMessageError(f"field without '=' at byte {pos}")
            if data_len is not None:
                stop = eq + 1 + data_len
                data_len = None
                if stop >= end or frame[stop] != 1:  # past the last field: into "10="
                    raise GarbledMessageError(f"data field {key!r} overruns its length")
            else:
                stop = frame.find(SOH, eq + 1, end)
                if stop < 0:
                    raise GarbledMessageError(f"field {key!r} is not terminated")
            value = frame[eq + 1 : stop]
            tags.append(key)
            values.append(value)
            if key in _LENGTH_KEYS and value.isdigit():
                nxt = frame.find(_EQ, stop + 1, end)
                if frame[stop + 1 : nxt] == _LENGTH_KEYS[key]:
                    data_len = int(value)
            pos = stop + 1
        return cls(tags, values, begin_string=begin_string, raw=frame)

    def copy(self) -> Message:
        """An independent copy (modifying it leaves this message alone)."""
        return Message(
            list(self._tags), list(self._values), begin_string=self.begin_string, raw=self.raw
        )

    # -- well-known fields ------------------------------------------------------------------
    @property
    def msg_type(self) -> str:
        """MsgType (35) as text, e.g. ``"D"``; compare with `MsgType` members."""
        return self._values[0].decode("latin-1") if self._tags[:1] == [_MSG_TYPE_KEY] else ""

    @property
    def seq_num(self) -> int:
        """MsgSeqNum (34). Raises FieldValueError when missing or not an integer."""
        return self.get_int(Tag.MSG_SEQ_NUM)

    def is_admin(self) -> bool:
        """True for session-level messages (Logon, Heartbeat, ResendRequest...)."""
        return self.msg_type in _ADMIN

    def _structure(self) -> Structure:
        if self.msg_type in _FIX44.messages:
            return _merged_structure(self.msg_type)
        return _FIX44.header

    # -- modification -------------------------------------------------------------------------
    def set(self, tag: int, value: Any) -> Message:
        """Set `tag` to `value`: replace its first occurrence, or add it (header fields go into
        the header, others at the end of the body). Returns the message for chaining."""
        key = _KEYS.get(tag) or tag_key(tag)
        raw = value.encode() if type(value) is str else format_value(value)
        self.raw = None
        tags = self._tags
        index = self._index
        if key in (tags if index is None else index):
            i = tags.index(key)
            self._values[i] = raw
            if index is not None and index[key] != i:
                self._own_index()[key] = i  # a lookup gives the value just set
        elif key in _HEADER_KEYS:
            i = 1
            n = len(tags)
            while i < n and tags[i] in _HEADER_SIDE:
                i += 1
            tags.insert(i, key)
            self._values.insert(i, raw)
            self._inserted(i, key)
        else:
            tags.append(key)
            self._values.append(raw)
            if index is not None:
                self._own_index()[key] = len(tags) - 1
        return self

    def stamp_header(self, fields: Iterable[tuple[bytes, bytes]]) -> None:
        """Set standard header fields from raw (key, value) pairs, in order after MsgType.

        The session's fast path for 49/56/34/52: keys are ``tag_key`` bytes and values are
        already formatted; an existing field keeps its place and takes the new value.
        """
        tags = self._tags
        values = self._values
        pos = 1
        for key, raw in fields:
            index = self._index
            if key in (tags if index is None else index):
                i = tags.index(key)
                values[i] = raw
                if index is not None and index[key] != i:
                    self._own_index()[key] = i  # a lookup gives the value just set
            else:
                tags.insert(pos, key)
                values.insert(pos, raw)
                self._inserted(pos, key)
                pos += 1
        self.raw = None

    def get_key(self, key: bytes) -> bytes | None:
        """The raw value for a raw tag key (``b"34"``); the session's fast lookup."""
        index = self._index
        if index is None:
            index = self._map()
        pos = index.get(key)
        return None if pos is None else self._values[pos]

    def append(self, tag: int, value: Any) -> Message:
        """Append a field at the end (repeats allowed: that is how groups are written), except
        that a header field goes into the header, as `set` does, and a header group's field
        (NoHops) to the end of the header."""
        key = tag_key(tag)
        if key in _HEADER_SIDE and key != _MSG_TYPE_KEY:
            if key in _HEADER_KEYS:
                return self.set(tag, value)
            return self._append_to_header(key, format_value(value))
        raw = format_value(value)
        self.raw = None
        self._tags.append(key)
        self._values.append(raw)
        if self._index is not None:
            # the last occurrence, as for a parsed message
            self._own_index()[key] = len(self._tags) - 1
        return self

    def _append_to_header(self, key: bytes, raw: bytes) -> Message:
        """Append a header group's field (NoHops) at the end of the header, not the body."""
        tags = self._tags
        i = 1
        n = len(tags)
        while i < n and tags[i] in _HEADER_SIDE:
            i += 1
        self.raw = None
        tags.insert(i, key)
        self._values.insert(i, raw)
        self._inserted(i, key)
        return self

    def remove(self, tag: int) -> bool:
        """Remove every occurrence of `tag` at any level. Returns whether anything was removed."""
        key = tag_key(tag)
        index = self._map()
        if key not in index:
            return False
        self.raw = None
        keep = [i for i, k in enumerate(self._tags) if k != key]
        self._tags = [self._tags[i] for i in keep]
        self._values = [self._values[i] for i in keep]
        moved = {old: new for new, old in enumerate(keep)}
        self._index = {k: moved[p] for k, p in index.items() if k != key}
        return True

    def add_group(self, count_tag: int, entries: Sequence[Iterable[tuple[int, Any]]]) -> Message:
        """Append a repeating group: its count field, then each entry's fields in order.

        Entries are sequences of (tag, value); a value may itself be a list of entries to
        write a nested group (``(Tag.NO_PARTY_SUB_IDS, [[...], ...])``).
        """
        self.append(count_tag, len(entries))
        for entry in entries:
            for tag, value in entry:
                if isinstance(value, list):
                    self.add_group(tag, value)
                else:
                    self.append(tag, value)
        return self

    # -- encoding -------------------------------------------------------------------------------
    def encode(self, begin_string: bytes | None = None) -> bytes:
        """The complete frame: 8, 9 (BodyLength), the fields, 10 (CheckSum)."""
        tags = self._tags
        if not tags or tags[0] != _MSG_TYPE_KEY:
            raise LocalProtocolError("MsgType (35) must be the first field of a message")
        body = SOH.join(map(_EQ.join, zip(tags, self._values)))
        out = b"8=%b\x019=%d\x01%b\x01" % (begin_string or self.begin_string, len(body) + 1, body)
        if len(out) <= 256:  # one C call (see checksum)
            return out + _TRAILERS[((adler32(out) & 0xFFFF) - 1) & 0xFF]
        return out + _TRAILERS[checksum(out)]


_TRAILERS: Final = [b"10=%03d\x01" % n for n in range(256)]
_MT_BYTES: Final[dict[str, bytes]] = {mt.value: mt.value.encode() for mt in MsgType}

_ADMIN: Final = frozenset(
    {
        MsgType.HEARTBEAT.value,
        MsgType.TEST_REQUEST.value,
        MsgType.RESEND_REQUEST.value,
        MsgType.REJECT.value,
        MsgType.SEQUENCE_RESET.value,
        MsgType.LOGOUT.value,
        MsgType.LOGON.value,
    }
)
_MERGED: dict[str, Structure] = {}


def _merged_structure(msg_type: str) -> Structure:
    """A message's body layout plus the header's groups, so `group()` finds either."""
    s = _MERGED.get(msg_type)
    if s is None:
        body = _FIX44.messages[msg_type].body
        groups = {**_FIX44.header.groups, **body.groups}
        s = _MERGED[msg_type] = Structure(body.fields, body.required, groups)
    return s


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
