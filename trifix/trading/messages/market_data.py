"""Market data messages: MarketDataRequest (V), MarketDataSnapshotFullRefresh (W),
MarketDataIncrementalRefresh (X) and MarketDataRequestReject (Y).

FIX 4.4 leaves MDEntryID (278) out of the snapshot's entries; `MDEntry.entry_id` is there for
the LPs that send it anyway (and the bundled simulator never does).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

import attrs

from trifix.core.tags import (
    MDEntryType,
    MDReqRejReason,
    MDUpdateAction,
    MDUpdateType,
    MsgType,
    SubscriptionRequestType,
    Tag,
)
from trifix.trading.messages._wire import Extra, WireEntry, WireMessage, fix


@attrs.frozen(kw_only=True)
class MarketDataRequest(WireMessage):
    """Subscribe to (or unsubscribe from, or snapshot) prices for some symbols (35=V).

    ``market_depth`` is 0 for the full book, 1 for top of book, N for N levels.
    """

    MSG_TYPE: ClassVar[str] = MsgType.MARKET_DATA_REQUEST
    md_req_id: str
    subscription_request_type: SubscriptionRequestType
    market_depth: int
    entry_types: tuple[MDEntryType, ...] = attrs.field(
        metadata=fix(Tag.NO_MD_ENTRY_TYPES, item=Tag.MD_ENTRY_TYPE)
    )
    symbols: tuple[str, ...] = attrs.field(metadata=fix(Tag.NO_RELATED_SYM, item=Tag.SYMBOL))
    md_update_type: MDUpdateType | None = None
    aggregated_book: bool | None = None
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class MDEntry(WireEntry):
    """One entry of a snapshot: a price level, a trade, an opening or closing price."""

    entry_type: MDEntryType = attrs.field(metadata=fix(Tag.MD_ENTRY_TYPE))
    price: Decimal | None = attrs.field(default=None, metadata=fix(Tag.MD_ENTRY_PX))
    size: Decimal | None = attrs.field(default=None, metadata=fix(Tag.MD_ENTRY_SIZE))
    entry_id: str | None = attrs.field(default=None, metadata=fix(Tag.MD_ENTRY_ID))
    position_no: int | None = attrs.field(default=None, metadata=fix(Tag.MD_ENTRY_POSITION_NO))
    time: dt.time | None = attrs.field(default=None, metadata=fix(Tag.MD_ENTRY_TIME))
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class MarketDataSnapshotFullRefresh(WireMessage):
    """The whole book (or what was asked of it) for one symbol (35=W)."""

    MSG_TYPE: ClassVar[str] = MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH
    symbol: str
    entries: tuple[MDEntry, ...] = attrs.field(metadata=fix(Tag.NO_MD_ENTRIES))
    md_req_id: str | None = None
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class MDIncrement(WireEntry):
    """One change of an incremental refresh: a new, changed or deleted entry."""

    update_action: MDUpdateAction = attrs.field(metadata=fix(Tag.MD_UPDATE_ACTION))
    entry_type: MDEntryType = attrs.field(metadata=fix(Tag.MD_ENTRY_TYPE))
    symbol: str | None = None
    price: Decimal | None = attrs.field(default=None, metadata=fix(Tag.MD_ENTRY_PX))
    size: Decimal | None = attrs.field(default=None, metadata=fix(Tag.MD_ENTRY_SIZE))
    entry_id: str | None = attrs.field(default=None, metadata=fix(Tag.MD_ENTRY_ID))
    entry_ref_id: str | None = attrs.field(default=None, metadata=fix(Tag.MD_ENTRY_REF_ID))
    position_no: int | None = attrs.field(default=None, metadata=fix(Tag.MD_ENTRY_POSITION_NO))
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class MarketDataIncrementalRefresh(WireMessage):
    """Changes to one or more books since the last message (35=X)."""

    MSG_TYPE: ClassVar[str] = MsgType.MARKET_DATA_INCREMENTAL_REFRESH
    entries: tuple[MDIncrement, ...] = attrs.field(metadata=fix(Tag.NO_MD_ENTRIES))
    md_req_id: str | None = None
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class MarketDataRequestReject(WireMessage):
    """A MarketDataRequest refused (35=Y)."""

    MSG_TYPE: ClassVar[str] = MsgType.MARKET_DATA_REQUEST_REJECT
    md_req_id: str
    reason: MDReqRejReason | None = attrs.field(default=None, metadata=fix(Tag.MD_REQ_REJ_REASON))
    text: str | None = None
    extra: Extra = ()
