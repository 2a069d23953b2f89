"""FIX messages: a light view over the wire bytes, with typed access and repeating groups.

A `Message` keeps its fields as two parallel lists in wire order, tags as ASCII byte strings
(``b"35"``) and values as raw bytes, plus a dict from tag to the position of its value for O(1)
lookup. Parsed messages of the same *shape* (the same tags in the same order) share that dict,
so parsing a frame is a handful of C-level operations (split, slice, join, one lookup) with no
per-field Python work; conversions (int, Decimal, timestamps...) happen only for the fields the
caller reads. See docs/decisions/ADR-001-message-representation.md and ADR-002 for the
measurements behind this.

This module builds, parses, changes and encodes messages and keeps the shape cache; reading
fields (raw and typed getters, repeating groups) is `trifix.core.fieldmap`, whose `FieldMap`
is the base of `Message`.

BeginString (8), BodyLength (9) and CheckSum (10) are framing, not fields of the list: the
encoder writes them and the framer checks them. MsgType (35) is always the first field.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any, Final
from zlib import adler32

from trifix.core.dictionary import Dictionary, Structure
from trifix.core.errors import GarbledMessageError, LocalProtocolError
from trifix.core.fieldmap import _KEYS, FieldMap, Group, SharedIndex, read_group, tag_key
from trifix.core.fields import format_value
from trifix.core.tags import MsgType, Tag

__all__ = [
    "SOH",
    "FieldMap",
    "Group",
    "Message",
    "SharedIndex",
    "checksum",
    "learn_shape",
    "read_group",
    "tag_key",
]

SOH: Final = b"\x01"
_EQ: Final = b"="
_MSG_TYPE_KEY: Final = b"35"

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
