"""Quote messages: QuoteRequest (R), Quote (S), QuoteCancel (Z), and BusinessMessageReject (j).

A QuoteRequest carries its instrument inside NoRelatedSym; trifix asks for one instrument per
request (one with several is refused when read, rather than half read).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from trifix.core.tags import (
    BusinessRejectReason,
    MsgType,
    QuoteCancelType,
    QuoteType,
    Side,
    Tag,
)
from trifix.trading.messages._wire import Extra, WireMessage, fix

_IN_RELATED_SYM = fix(in_group=Tag.NO_RELATED_SYM)


@attrs.frozen(kw_only=True)
class QuoteRequest(WireMessage):
    """Ask an LP for a quote on one instrument (35=R)."""

    MSG_TYPE: ClassVar[str] = MsgType.QUOTE_REQUEST
    quote_req_id: str
    symbol: str = attrs.field(metadata=_IN_RELATED_SYM)
    side: Side | None = attrs.field(default=None, metadata=_IN_RELATED_SYM)
    order_qty: Decimal | None = attrs.field(default=None, metadata=_IN_RELATED_SYM)
    quote_type: QuoteType | None = attrs.field(default=None, metadata=_IN_RELATED_SYM)
    valid_until_time: datetime | None = attrs.field(default=None, metadata=_IN_RELATED_SYM)
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class Quote(WireMessage):
    """An LP's prices for an instrument (35=S): indicative (537=0) or tradeable (537=1).

    ``bid_size``/``offer_size`` are the most the LP will trade at its prices and
    ``min_bid_size``/``min_offer_size`` the least; ``valid_until_time`` ends the quote.
    """

    MSG_TYPE: ClassVar[str] = MsgType.QUOTE
    quote_id: str
    symbol: str
    quote_req_id: str | None = None
    quote_type: QuoteType | None = None
    side: Side | None = None
    order_qty: Decimal | None = None
    bid_px: Decimal | None = None
    offer_px: Decimal | None = None
    bid_size: Decimal | None = None
    offer_size: Decimal | None = None
    min_bid_size: Decimal | None = None
    min_offer_size: Decimal | None = None
    valid_until_time: datetime | None = None
    transact_time: datetime | None = None
    text: str | None = None
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class QuoteCancel(WireMessage):
    """Withdraw one quote or all of them (35=Z)."""

    MSG_TYPE: ClassVar[str] = MsgType.QUOTE_CANCEL
    quote_id: str
    quote_cancel_type: QuoteCancelType
    quote_req_id: str | None = None
    symbol: str | None = attrs.field(default=None, metadata=fix(in_group=Tag.NO_QUOTE_ENTRIES))
    extra: Extra = ()


@attrs.frozen(kw_only=True)
class BusinessMessageReject(WireMessage):
    """An application message refused for a business reason (35=j)."""

    MSG_TYPE: ClassVar[str] = MsgType.BUSINESS_MESSAGE_REJECT
    ref_msg_type: str
    business_reject_reason: BusinessRejectReason
    ref_seq_num: int | None = None
    business_reject_ref_id: str | None = None
    text: str | None = None
    extra: Extra = ()
