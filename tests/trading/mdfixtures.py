"""Builders of market data messages for the book, subscription and BBO tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from trifix.core.codec import Framer
from trifix.core.message import Message
from trifix.core.tags import MDEntryType, MDUpdateAction, MsgType, Tag
from trifix.trading.book import BookEntry, BookUpdate

BID = MDEntryType.BID
OFFER = MDEntryType.OFFER
TRADE = MDEntryType.TRADE
NEW = MDUpdateAction.NEW
CHANGE = MDUpdateAction.CHANGE
DELETE = MDUpdateAction.DELETE


def d(value: str | int) -> Decimal:
    return Decimal(value)


def entry(
    entry_type: MDEntryType,
    price: str | None,
    size: str | int | None,
    entry_id: str | None = None,
    position: int | None = None,
) -> BookEntry:
    return BookEntry(
        entry_type,
        None if price is None else Decimal(price),
        None if size is None else Decimal(size),
        entry_id,
        position,
    )


def update(
    action: MDUpdateAction,
    entry_type: MDEntryType,
    price: str | None = None,
    size: str | int | None = None,
    entry_id: str | None = None,
    position: int | None = None,
    ref_id: str | None = None,
) -> BookUpdate:
    return BookUpdate(
        action,
        entry_type,
        None if price is None else Decimal(price),
        None if size is None else Decimal(size),
        entry_id,
        position,
        ref_id,
    )


def _entry_fields(e: BookEntry | BookUpdate, symbol: str | None) -> list[tuple[int, Any]]:
    fields: list[tuple[int, Any]] = []
    if isinstance(e, BookUpdate):
        fields.append((Tag.MD_UPDATE_ACTION, e.action))
    fields.append((Tag.MD_ENTRY_TYPE, e.entry_type))
    if isinstance(e, BookUpdate) and symbol is not None:
        fields.append((Tag.SYMBOL, symbol))
    if e.entry_id is not None:
        fields.append((Tag.MD_ENTRY_ID, e.entry_id))
    if isinstance(e, BookUpdate) and e.ref_id is not None:
        fields.append((Tag.MD_ENTRY_REF_ID, e.ref_id))
    if e.price is not None:
        fields.append((Tag.MD_ENTRY_PX, e.price))
    if e.size is not None:
        fields.append((Tag.MD_ENTRY_SIZE, e.size))
    if e.position is not None:
        fields.append((Tag.MD_ENTRY_POSITION_NO, e.position))
    return fields


def snapshot_message(
    symbol: str, entries: Sequence[BookEntry], req_id: str | None = "R1"
) -> Message:
    """A MarketDataSnapshotFullRefresh (W) for `symbol`."""
    fields: list[tuple[int, Any]] = []
    if req_id is not None:
        fields.append((Tag.MD_REQ_ID, req_id))
    fields.append((Tag.SYMBOL, symbol))
    msg = Message.new(MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH, *fields)
    return msg.add_group(Tag.NO_MD_ENTRIES, [_entry_fields(e, None) for e in entries])


def incremental_message(
    updates: Iterable[tuple[str | None, BookUpdate]], req_id: str | None = "R1"
) -> Message:
    """A MarketDataIncrementalRefresh (X) of (symbol or None, update) pairs."""
    fields: list[tuple[int, Any]] = []
    if req_id is not None:
        fields.append((Tag.MD_REQ_ID, req_id))
    msg = Message.new(MsgType.MARKET_DATA_INCREMENTAL_REFRESH, *fields)
    return msg.add_group(Tag.NO_MD_ENTRIES, [_entry_fields(u, s) for s, u in updates])


def reject_message(req_id: str, reason: str | None = None, text: str | None = None) -> Message:
    """A MarketDataRequestReject (Y)."""
    fields: list[tuple[int, Any]] = [(Tag.MD_REQ_ID, req_id)]
    if reason is not None:
        fields.append((Tag.MD_REQ_REJ_REASON, reason))
    if text is not None:
        fields.append((Tag.TEXT, text))
    return Message.new(MsgType.MARKET_DATA_REQUEST_REJECT, *fields)


def over_the_wire(msg: Message) -> Message:
    """`msg` encoded with a header and framed back, as the runtime would deliver it."""
    msg = msg.copy()
    msg.set(Tag.SENDER_COMP_ID, "LP").set(Tag.TARGET_COMP_ID, "GW").set(Tag.MSG_SEQ_NUM, 2)
    msg.set(Tag.SENDING_TIME, "20261125-09:00:00.000")
    (out,) = Framer().feed(msg.encode())
    assert isinstance(out, Message)
    return out
