"""Typed tag numbers, message types and field enums: no bare tag numbers elsewhere.

`Tag`, `MsgType` and the field enums are generated from the FIX 4.4 dictionary by
`tools/gen_fix44.py` into `_enums.py`; this module is their public home.
"""

from __future__ import annotations

from typing import NewType

from trifix.core._enums import (
    BusinessRejectReason,
    CxlRejReason,
    CxlRejResponseTo,
    EncryptMethod,
    ExecInst,
    ExecRestatementReason,
    ExecType,
    HandlInst,
    MassStatusReqType,
    MDEntryType,
    MDReqRejReason,
    MDUpdateAction,
    MDUpdateType,
    MsgType,
    OrdRejReason,
    OrdStatus,
    OrdType,
    PartyIDSource,
    PartyRole,
    PositionEffect,
    Product,
    QuoteCancelType,
    QuoteRejectReason,
    QuoteRequestType,
    QuoteStatus,
    QuoteType,
    SecurityIDSource,
    SecurityType,
    SessionRejectReason,
    SettlType,
    Side,
    SubscriptionRequestType,
    Tag,
    TimeInForce,
)

SeqNum = NewType("SeqNum", int)
"""A FIX message sequence number (MsgSeqNum, 34): 1 and up."""

ADMIN_MSG_TYPES: frozenset[str] = frozenset(
    {
        MsgType.HEARTBEAT,
        MsgType.TEST_REQUEST,
        MsgType.RESEND_REQUEST,
        MsgType.REJECT,
        MsgType.SEQUENCE_RESET,
        MsgType.LOGOUT,
        MsgType.LOGON,
    }
)
"""The session-level (admin) message types of FIX 4.4."""

__all__ = [
    "ADMIN_MSG_TYPES",
    "BusinessRejectReason",
    "CxlRejReason",
    "CxlRejResponseTo",
    "EncryptMethod",
    "ExecInst",
    "ExecRestatementReason",
    "ExecType",
    "HandlInst",
    "MDEntryType",
    "MDReqRejReason",
    "MDUpdateAction",
    "MDUpdateType",
    "MassStatusReqType",
    "MsgType",
    "OrdRejReason",
    "OrdStatus",
    "OrdType",
    "PartyIDSource",
    "PartyRole",
    "PositionEffect",
    "Product",
    "QuoteCancelType",
    "QuoteRejectReason",
    "QuoteRequestType",
    "QuoteStatus",
    "QuoteType",
    "SecurityIDSource",
    "SecurityType",
    "SeqNum",
    "SessionRejectReason",
    "SettlType",
    "Side",
    "SubscriptionRequestType",
    "Tag",
    "TimeInForce",
]
