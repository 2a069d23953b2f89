"""Which session events report a reject, of what kind and for what reason.

Shared by the logs (rejects are logged at WARNING) and the metrics (rejects counted by kind
and reason). Kinds:

======================  ===========================================================
``session_sent``        we answered a message with a session Reject (35=3)
``session_received``    the peer rejected one of our messages (35=3)
``business_sent``       we answered with a BusinessMessageReject (35=j)
``business_received``   the peer sent a BusinessMessageReject (35=j)
``order``               an ExecutionReport with ExecType=Rejected (OrdRejReason 103)
``cancel``              an OrderCancelReject (35=9, CxlRejReason 102)
``market_data``         a MarketDataRequestReject (35=Y, MDReqRejReason 281)
``quote_request``       a QuoteRequestReject (35=AG, QuoteRequestRejectReason 658)
======================  ===========================================================

The reason is the reason code as text (``"5"``), ``"none"`` when the message has none, and
``"other"`` for a value that is not a short number (so a peer cannot blow up the number of
metric series).
"""

from __future__ import annotations

from dataclasses import dataclass

from trifix.core.events import (
    AppMessageReceived,
    BusinessRejectSent,
    Event,
    RejectReceived,
    RejectSent,
)
from trifix.core.message import Message
from trifix.core.tags import ExecType, MsgType, Tag

__all__ = ["Reject", "reject_of"]

_REASON_TAGS: dict[str, tuple[str, int]] = {
    MsgType.BUSINESS_MESSAGE_REJECT: ("business_received", Tag.BUSINESS_REJECT_REASON),
    MsgType.ORDER_CANCEL_REJECT: ("cancel", Tag.CXL_REJ_REASON),
    MsgType.MARKET_DATA_REQUEST_REJECT: ("market_data", Tag.MD_REQ_REJ_REASON),
    MsgType.QUOTE_REQUEST_REJECT: ("quote_request", Tag.QUOTE_REQUEST_REJECT_REASON),
}
_REJECTED = ExecType.REJECTED.value.encode()


@dataclass(frozen=True, slots=True)
class Reject:
    """A reject: its kind, reason code (as a label) and text, if any."""

    kind: str
    reason: str
    text: str | None


def _label(value: object) -> str:
    if value is None:
        return "none"
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return text if text.isdigit() and len(text) <= 5 else "other"


def _from_message(message: Message) -> Reject | None:
    mt = message.msg_type
    tag: int
    if mt == MsgType.EXECUTION_REPORT:
        if message.get(Tag.EXEC_TYPE) != _REJECTED:
            return None
        kind, tag = "order", Tag.ORD_REJ_REASON
    else:
        known = _REASON_TAGS.get(mt)
        if known is None:
            return None
        kind, tag = known
    text = message.get(Tag.TEXT)
    return Reject(kind, _label(message.get(tag)), text.decode("utf-8", "replace") if text else None)


def reject_of(event: Event) -> Reject | None:
    """The reject `event` reports, or None."""
    if isinstance(event, AppMessageReceived):
        return _from_message(event.message)
    if isinstance(event, RejectSent):
        return Reject("session_sent", _label(int(event.reason)), event.text)
    if isinstance(event, RejectReceived):
        return Reject("session_received", _label(event.reason), event.text)
    if isinstance(event, BusinessRejectSent):
        return Reject("business_sent", _label(event.reason), event.text)
    return None
