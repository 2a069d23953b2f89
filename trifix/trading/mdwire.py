"""Market data entries read straight from a received `Message`, for the book's hot path.

A MarketDataIncrementalRefresh (X) or SnapshotFullRefresh (W) is read by one pass over the
message's raw fields (``Message.tag_keys()`` / ``raw_values()``) from its NoMDEntries (268):
an entry starts at the group's delimiter (MDUpdateAction 279 in X, MDEntryType 269 in W) and the
few fields a book needs are picked out by a dict lookup per field. This skips building `Group`
views or typed message objects, which costs several times more per entry (see
docs/marketdata.md for the measurements). The pass is also lenient where LPs commonly deviate
from the FIX 4.4 dictionary: MDEntryID (278) in a W is read, although FIX 4.4 lists it only for
X.

Values are checked as they are converted (`parse_decimal`, `parse_int`, the enums); a bad one
raises `FieldValueError` naming the tag, and the caller decides (the subscription manager treats
the message as lost and asks for a fresh snapshot).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, TypeVar

from trifix.core.errors import FieldValueError
from trifix.core.fields import parse_decimal, parse_int
from trifix.core.message import Message, tag_key
from trifix.core.tags import MDEntryType, MDUpdateAction, Tag
from trifix.trading.book import BookEntry, BookUpdate

__all__ = ["read_incremental", "read_md_req_id", "read_snapshot"]

_NO_MD_ENTRIES: Final = tag_key(Tag.NO_MD_ENTRIES)
_MD_REQ_ID: Final = tag_key(Tag.MD_REQ_ID)
_SYMBOL_KEY: Final = tag_key(Tag.SYMBOL)
_ACTION_KEY: Final = tag_key(Tag.MD_UPDATE_ACTION)
_TYPE_KEY: Final = tag_key(Tag.MD_ENTRY_TYPE)

# Slots of one entry's raw fields: where each tag of interest goes.
_ACTION, _TYPE, _SYMBOL, _PRICE, _SIZE, _ID, _POSITION, _REF = range(8)
_SLOTS: Final = {
    _ACTION_KEY: _ACTION,
    _TYPE_KEY: _TYPE,
    _SYMBOL_KEY: _SYMBOL,
    tag_key(Tag.MD_ENTRY_PX): _PRICE,
    tag_key(Tag.MD_ENTRY_SIZE): _SIZE,
    tag_key(Tag.MD_ENTRY_ID): _ID,
    tag_key(Tag.MD_ENTRY_POSITION_NO): _POSITION,
    tag_key(Tag.MD_ENTRY_REF_ID): _REF,
}
_ACTIONS: Final = {m.value.encode(): m for m in MDUpdateAction}
_TYPES: Final = {m.value.encode(): m for m in MDEntryType}
_EMPTY: Final[tuple[bytes | None, ...]] = (None,) * 8

# Prices and sizes repeat constantly in a stream: parse each distinct value once. The cache is
# bounded (cleared when full) so that a stream of ever-new values cannot grow it.
_DECIMALS: dict[bytes, Decimal] = {}
_DECIMAL_CACHE_SIZE: Final = 8192

E = TypeVar("E", MDUpdateAction, MDEntryType)


def _decimal(raw: bytes, tag: int) -> Decimal:
    value = _DECIMALS.get(raw)
    if value is None:
        try:
            value = parse_decimal(raw)
        except ValueError as exc:
            raise FieldValueError(tag, f"tag {tag}: {raw!r} is not a valid decimal") from exc
        if len(_DECIMALS) >= _DECIMAL_CACHE_SIZE:
            _DECIMALS.clear()
        _DECIMALS[raw] = value
    return value


def _member(table: dict[bytes, E], raw: bytes | None, tag: int) -> E:
    if raw is None:
        raise FieldValueError(tag, f"tag {tag} is missing from an MDEntry", missing=True)
    member = table.get(raw)
    if member is None:
        raise FieldValueError(tag, f"tag {tag}: {raw!r} is not a valid value")
    return member


def read_md_req_id(msg: Message) -> str | None:
    """The MDReqID (262) of a market data message, or None (its first occurrence: the body
    field, which comes before any group)."""
    try:
        raw = msg.raw_values()[msg.tag_keys().index(_MD_REQ_ID)]
    except ValueError:
        return None
    return raw.decode("utf-8", "surrogateescape")


def _entries(msg: Message, delimiter: bytes) -> tuple[str | None, list[list[bytes | None]]]:
    """MDReqID and the raw slots of every entry of NoMDEntries."""
    tags = msg.tag_keys()
    values = msg.raw_values()
    req_id = read_md_req_id(msg)
    try:
        start = tags.index(_NO_MD_ENTRIES) + 1
    except ValueError:
        raise FieldValueError(
            Tag.NO_MD_ENTRIES, "NoMDEntries (268) is missing", missing=True
        ) from None
    out: list[list[bytes | None]] = []
    slots = _SLOTS
    current: list[bytes | None] | None = None
    for i in range(start, len(tags)):
        key = tags[i]
        if key == delimiter:
            current = list(_EMPTY)
            out.append(current)
        slot = slots.get(key)
        if slot is not None and current is not None:
            current[slot] = values[i]
    expected = values[start - 1]
    if not expected.isdigit() or int(expected) != len(out):
        raise FieldValueError(
            Tag.NO_MD_ENTRIES,
            f"NoMDEntries (268) is {expected.decode('latin-1')!r} but {len(out)} entries follow",
        )
    return req_id, out


def read_incremental(msg: Message) -> tuple[str | None, dict[str | None, list[BookUpdate]]]:
    """The MDReqID of an X and its entries as `BookUpdate` values, by symbol, in order.

    An entry without Symbol (55) belongs to the symbol of the entry before it (None for the
    first entries when none has one: the subscription's only symbol).

    Raises:
        FieldValueError: a missing or invalid field, naming its tag.
    """
    req_id, raw_entries = _entries(msg, _ACTION_KEY)
    out: dict[str | None, list[BookUpdate]] = {}
    symbol: str | None = None
    decimal = _decimal
    for action, etype, sym, price, size, entry_id, position, ref in raw_entries:
        if sym is not None:
            symbol = sym.decode("utf-8", "surrogateescape")
        update = BookUpdate(
            _member(_ACTIONS, action, Tag.MD_UPDATE_ACTION),
            _member(_TYPES, etype, Tag.MD_ENTRY_TYPE),
            None if price is None else decimal(price, Tag.MD_ENTRY_PX),
            None if size is None else decimal(size, Tag.MD_ENTRY_SIZE),
            None if entry_id is None else entry_id.decode("utf-8", "surrogateescape"),
            None if position is None else _int(position, Tag.MD_ENTRY_POSITION_NO),
            None if ref is None else ref.decode("utf-8", "surrogateescape"),
        )
        bucket = out.get(symbol)
        if bucket is None:
            out[symbol] = [update]
        else:
            bucket.append(update)
    return req_id, out


def read_snapshot(msg: Message) -> tuple[str | None, str | None, list[BookEntry]]:
    """The MDReqID, Symbol (55) and entries of a W.

    Raises:
        FieldValueError: a missing or invalid field, naming its tag.
    """
    req_id, raw_entries = _entries(msg, _TYPE_KEY)
    decimal = _decimal
    entries = [
        BookEntry(
            _member(_TYPES, etype, Tag.MD_ENTRY_TYPE),
            None if price is None else decimal(price, Tag.MD_ENTRY_PX),
            None if size is None else decimal(size, Tag.MD_ENTRY_SIZE),
            None if entry_id is None else entry_id.decode("utf-8", "surrogateescape"),
            None if position is None else _int(position, Tag.MD_ENTRY_POSITION_NO),
        )
        for _a, etype, _s, price, size, entry_id, position, _r in raw_entries
    ]
    # The W's own Symbol is the body field before NoMDEntries (a later 55 would be an entry's).
    symbol = None
    tags = msg.tag_keys()
    values = msg.raw_values()
    for i, key in enumerate(tags):
        if key == _NO_MD_ENTRIES:
            break
        if key == _SYMBOL_KEY:
            symbol = values[i].decode("utf-8", "surrogateescape")
    return req_id, symbol, entries


def _int(raw: bytes, tag: int) -> int:
    try:
        return parse_int(raw)
    except ValueError as exc:
        raise FieldValueError(tag, f"tag {tag}: {raw!r} is not a valid integer") from exc
