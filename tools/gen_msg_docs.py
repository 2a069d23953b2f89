#!/usr/bin/env python3
"""Generate docs/messages.md, the dictionary of the FIX messages trifix uses.

Usage:
    python tools/gen_msg_docs.py            # write docs/messages.md
    python tools/gen_msg_docs.py --check    # exit 1 if the committed file is out of date

Fields, types, enum values and which fields are required come from trifix's FIX 4.4
dictionary (`trifix.core.dictionary.Dictionary.fix44`), so the page cannot disagree with what
the validator enforces. What the dictionary cannot know (who sends a message, what it is for,
what answers it) is the `MESSAGES` table below. The optional fields shown are those the typed
messages of `trifix.trading` model (read from their attrs classes) plus, for session-level
messages, those the engine uses (listed in `MESSAGES`). Each message's example is built from
its required fields and those optional ones, and `tests/tools/test_docs.py` checks that every
example passes trifix's validation.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import attrs

from trifix.core.dictionary import Dictionary, FieldDef, Structure
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.trading.messages import MESSAGE_CLASSES

ROOT: Final = Path(__file__).resolve().parent.parent
OUT: Final = ROOT / "docs" / "messages.md"
FIX44: Final = Dictionary.fix44()
WHEN: Final = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)

GW_TO_LP: Final = "gateway → LP"
LP_TO_GW: Final = "LP → gateway"
BOTH: Final = "both ways (session level)"


@dataclass(frozen=True)
class Doc:
    """What the dictionary does not say about a message."""

    msg_type: MsgType
    direction: str
    purpose: str
    responses: str
    optional: tuple[int, ...] = ()


MESSAGES: Final = (
    Doc(
        MsgType.LOGON,
        BOTH,
        "Opens the session. The initiator sends it first; the acceptor answers with its own. "
        "Carries the heartbeat interval, and ResetSeqNumFlag to start both sides at 1.",
        "A Logon (accepted); a Logout with a reason, then a disconnect (refused: wrong "
        "CompIDs, credentials, MsgSeqNum too low); a ResendRequest after the Logon when its "
        "MsgSeqNum is above the expected one.",
        (Tag.RESET_SEQ_NUM_FLAG, Tag.USERNAME, Tag.PASSWORD, Tag.NEXT_EXPECTED_MSG_SEQ_NUM),
    ),
    Doc(
        MsgType.HEARTBEAT,
        BOTH,
        "Sent after HeartBtInt seconds without other traffic, and as the answer to a "
        "TestRequest (then with its TestReqID).",
        "None.",
        (Tag.TEST_REQ_ID,),
    ),
    Doc(
        MsgType.TEST_REQUEST,
        BOTH,
        "Sent when the counterparty has been silent for HeartBtInt * (1 + "
        "test_request_delay_multiplier); forces a Heartbeat.",
        "A Heartbeat with the same TestReqID; none within as long again: the session is "
        "declared dead and disconnected.",
    ),
    Doc(
        MsgType.RESEND_REQUEST,
        BOTH,
        "Asks the counterparty to send a range of messages again after a sequence gap "
        "(EndSeqNo 0: everything from BeginSeqNo on).",
        "The stored application messages again with PossDupFlag=Y and OrigSendingTime; a "
        "SequenceReset-GapFill for admin messages and for what is not stored.",
    ),
    Doc(
        MsgType.REJECT,
        BOTH,
        "Session-level reject of a received message that breaks the rules (a missing or "
        "malformed field, a wrong value, a CompID problem); the rejected message's sequence "
        "number is consumed.",
        "None; the application is told (`RejectReceived`).",
        (Tag.REF_TAG_ID, Tag.REF_MSG_TYPE, Tag.SESSION_REJECT_REASON, Tag.TEXT),
    ),
    Doc(
        MsgType.SEQUENCE_RESET,
        BOTH,
        "With GapFillFlag=Y, fills a resent range in which nothing needs resending; without "
        "it (Reset mode), forces the next expected sequence number.",
        "None. A NewSeqNo below the expected number is rejected (373=5).",
        (Tag.GAP_FILL_FLAG,),
    ),
    Doc(
        MsgType.LOGOUT,
        BOTH,
        "Ends the session; the other side answers with a Logout before the connection closes.",
        "A Logout; none within logout_timeout: the connection is closed anyway.",
        (Tag.TEXT,),
    ),
    Doc(
        MsgType.NEW_ORDER_SINGLE,
        GW_TO_LP,
        "A new order: market or limit, buy or sell, for one symbol.",
        "ExecutionReport New (150=0), then Trade (150=F) fills; ExecutionReport Rejected "
        "(150=8) when the LP refuses it; Reject (3) when malformed; BusinessMessageReject (j) "
        "when the LP does not support it.",
        (Tag.ACCOUNT, Tag.SYMBOL, Tag.ORDER_QTY, Tag.PRICE, Tag.TIME_IN_FORCE, Tag.TEXT),
    ),
    Doc(
        MsgType.ORDER_CANCEL_REQUEST,
        GW_TO_LP,
        "Cancels the rest of a working order, named by OrigClOrdID.",
        "ExecutionReport Canceled (150=4); OrderCancelReject (9, 434=1) when unknown or too late.",
        (Tag.ORDER_ID, Tag.SYMBOL, Tag.ORDER_QTY),
    ),
    Doc(
        MsgType.ORDER_CANCEL_REPLACE_REQUEST,
        GW_TO_LP,
        "Changes a working order's quantity or price; the order takes the new ClOrdID.",
        "ExecutionReport Replaced (150=5), possibly followed by a fill; OrderCancelReject "
        "(9, 434=2) when unknown or too late.",
        (Tag.ORDER_ID, Tag.SYMBOL, Tag.ORDER_QTY, Tag.PRICE),
    ),
    Doc(
        MsgType.EXECUTION_REPORT,
        LP_TO_GW,
        "The state of an order after each event: New, Trade (partial or full fill), "
        "Replaced, Canceled, Rejected.",
        "None (a Reject (3) when malformed).",
        (
            Tag.CL_ORD_ID,
            Tag.ORIG_CL_ORD_ID,
            Tag.ORD_REJ_REASON,
            Tag.SYMBOL,
            Tag.ORDER_QTY,
            Tag.PRICE,
            Tag.LAST_QTY,
            Tag.LAST_PX,
            Tag.TRANSACT_TIME,
            Tag.TEXT,
        ),
    ),
    Doc(
        MsgType.ORDER_CANCEL_REJECT,
        LP_TO_GW,
        "Refuses a cancel (434=1) or a replace (434=2): the order is unknown, or already "
        "filled or canceled.",
        "None.",
        (Tag.CXL_REJ_REASON, Tag.TEXT),
    ),
    Doc(
        MsgType.ORDER_STATUS_REQUEST,
        GW_TO_LP,
        "Asks for one order's current state; the gateway sends it for every open order after "
        "a reconnect, to learn fills that happened while away.",
        "An ExecutionReport with ExecType Order Status (150=I).",
    ),
    Doc(
        MsgType.ORDER_MASS_STATUS_REQUEST,
        GW_TO_LP,
        "Asks for the state of many orders at once (all, or by symbol or side).",
        "One ExecutionReport with ExecType Order Status (150=I) per order.",
    ),
    Doc(
        MsgType.MARKET_DATA_REQUEST,
        GW_TO_LP,
        "Subscribes to (263=1) or unsubscribes from (263=2) prices of one or more symbols, or "
        "asks for one snapshot (263=0).",
        "MarketDataSnapshotFullRefresh (W) per symbol, then MarketDataIncrementalRefresh (X) "
        "on every change (or new W with 265=0); MarketDataRequestReject (Y) when refused.",
        (Tag.SYMBOL, Tag.MD_UPDATE_TYPE),
    ),
    Doc(
        MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH,
        LP_TO_GW,
        "The whole book of one symbol: bid and offer entries with price and size.",
        "None.",
        (Tag.MD_REQ_ID, Tag.SYMBOL, Tag.MD_ENTRY_PX, Tag.MD_ENTRY_SIZE),
    ),
    Doc(
        MsgType.MARKET_DATA_INCREMENTAL_REFRESH,
        LP_TO_GW,
        "Changes to books: new, changed or deleted entries (MDUpdateAction).",
        "None.",
        (Tag.MD_REQ_ID, Tag.MD_ENTRY_TYPE, Tag.SYMBOL, Tag.MD_ENTRY_PX, Tag.MD_ENTRY_SIZE),
    ),
    Doc(
        MsgType.MARKET_DATA_REQUEST_REJECT,
        LP_TO_GW,
        "Refuses a MarketDataRequest: unknown symbol, duplicate MDReqID, unsupported entry type.",
        "None.",
        (Tag.MD_REQ_REJ_REASON, Tag.TEXT),
    ),
    Doc(
        MsgType.QUOTE_REQUEST,
        GW_TO_LP,
        "Asks an LP for a quote on one instrument (request for quote).",
        "A Quote (S); a QuoteRequestReject (AG) when refused.",
    ),
    Doc(
        MsgType.QUOTE,
        LP_TO_GW,
        "An LP's bid and offer for an instrument, indicative (537=0) or tradeable (537=1), "
        "valid until ValidUntilTime.",
        "None; a tradeable quote is traded with a NewOrderSingle carrying its QuoteID.",
    ),
    Doc(
        MsgType.QUOTE_CANCEL,
        LP_TO_GW,
        "Withdraws one quote, or all of them.",
        "None.",
    ),
    Doc(
        MsgType.QUOTE_REQUEST_REJECT,
        LP_TO_GW,
        "Refuses a QuoteRequest (QuoteRequestRejectReason 658).",
        "None.",
        (Tag.QUOTE_REQUEST_REJECT_REASON, Tag.SYMBOL, Tag.TEXT),
    ),
    Doc(
        MsgType.BUSINESS_MESSAGE_REJECT,
        BOTH,
        "Refuses an application message that is valid FIX but cannot be processed (an "
        "unsupported message type, a missing conditionally required field).",
        "None.",
        (Tag.BUSINESS_REJECT_REF_ID, Tag.TEXT),
    ),
)

_TYPE_EXAMPLES: Final = {
    "AMT": "1085200",
    "BOOLEAN": "Y",
    "CHAR": "A",
    "COUNTRY": "US",
    "CURRENCY": "EUR",
    "DATA": "data",
    "EXCHANGE": "XLON",
    "FLOAT": "1.5",
    "INT": "1",
    "LENGTH": "4",
    "LOCALMKTDATE": "20260312",
    "MONTHYEAR": "202603",
    "MULTIPLEVALUESTRING": "A",
    "NUMINGROUP": "1",
    "PERCENTAGE": "0.5",
    "PRICE": "1.08515",
    "PRICEOFFSET": "0.0001",
    "QTY": "1000000",
    "SEQNUM": "1",
    "STRING": "ABC",
    "UTCDATEONLY": "20260312",
    "UTCTIMEONLY": "09:30:00.000",
    "UTCTIMESTAMP": "20260312-09:30:00.000",
}
_TAG_EXAMPLES: Final[dict[int, str]] = {
    Tag.SYMBOL: "EUR/USD",
    Tag.CL_ORD_ID: "ORD-1",
    Tag.ORIG_CL_ORD_ID: "ORD-1",
    Tag.ORDER_ID: "LP-42",
    Tag.EXEC_ID: "EX-7",
    Tag.ACCOUNT: "ACC-1",
    Tag.MD_REQ_ID: "MD-1",
    Tag.TEST_REQ_ID: "TEST-1",
    Tag.USERNAME: "gateway",
    Tag.PASSWORD: "(secret)",
    Tag.TEXT: "free text",
    Tag.HEART_BT_INT: "30",
    Tag.MARKET_DEPTH: "1",
    Tag.REF_MSG_TYPE: "D",
    Tag.BEGIN_SEQ_NO: "4",
    Tag.END_SEQ_NO: "0",
    Tag.NEW_SEQ_NO: "6",
    Tag.REF_SEQ_NUM: "4",
    Tag.REF_TAG_ID: "54",
    Tag.BUSINESS_REJECT_REF_ID: "ORD-1",
    Tag.MSG_SEQ_NUM: "2",
    Tag.SENDER_COMP_ID: "GATEWAY",
    Tag.TARGET_COMP_ID: "LP1",
    Tag.LEAVES_QTY: "0",
    Tag.CUM_QTY: "1000000",
    Tag.AVG_PX: "1.08515",
    Tag.OFFER_PX: "1.08525",
    Tag.QUOTE_ID: "Q-1",
    Tag.QUOTE_REQ_ID: "QR-1",
    Tag.MASS_STATUS_REQ_ID: "MS-1",
}
# An enum value that reads better in an example than the first.
_PREFERRED_VALUE: Final[dict[int, str]] = {
    Tag.SIDE: "1",
    Tag.ORD_TYPE: "2",
    Tag.EXEC_TYPE: "F",
    Tag.ORD_STATUS: "2",
    Tag.MD_ENTRY_TYPE: "0",
    Tag.SUBSCRIPTION_REQUEST_TYPE: "1",
    Tag.MD_UPDATE_ACTION: "0",
    Tag.ENCRYPT_METHOD: "0",
    Tag.CXL_REJ_RESPONSE_TO: "1",
    Tag.TIME_IN_FORCE: "0",
    Tag.RESET_SEQ_NUM_FLAG: "Y",
    Tag.GAP_FILL_FLAG: "Y",
}


def example(fdef: FieldDef) -> str:
    """An example value of a field: a named one, an enum value, else one for its type."""
    if fdef.tag in _TAG_EXAMPLES:
        return _TAG_EXAMPLES[fdef.tag]
    if fdef.values:
        return _PREFERRED_VALUE.get(fdef.tag, next(iter(fdef.values)))
    return _TYPE_EXAMPLES[fdef.type]


def _values(fdef: FieldDef) -> str:
    if not fdef.values:
        return f"`{example(fdef)}`"
    ordered = sorted(fdef.values.items(), key=lambda kv: (not kv[0].isdigit(), _num(kv[0])))
    items = [f"`{v}` {name.replace('_', ' ').lower()}" for v, name in ordered]
    if len(items) > 8:
        items = [*items[:8], f"... ({len(fdef.values)} values)"]
    return ", ".join(items)


def _num(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def _rows(
    structure: Structure, wanted: frozenset[int], depth: int = 0
) -> Iterator[tuple[int, FieldDef, bool]]:
    """(depth, field, required) for the required fields, the wanted optional ones, and the
    groups holding either, in dictionary order."""
    for tag in structure.fields:
        required = tag in structure.required
        group = structure.groups.get(tag)
        inner = list(_rows(group.entry, wanted, depth + 1)) if group is not None else []
        if required or tag in wanted or inner:
            yield depth, FIX44.fields[tag], required
            yield from inner


def modelled(msg_type: str) -> frozenset[int]:
    """The tags the typed message of `trifix.trading` models for `msg_type` (none if none)."""
    cls = MESSAGE_CLASSES.get(msg_type)
    return _attr_tags(cls) if cls is not None else frozenset()


def _attr_tags(cls: type) -> frozenset[int]:
    attrs.resolve_types(cls)
    tags: set[int] = set()
    for field in attrs.fields(cls):
        if field.name == "extra":
            continue
        meta = field.metadata.get("trifix.fix")
        tag = getattr(meta, "tag", None)
        tags.add(tag if tag is not None else int(Tag[field.name.upper()]))
        in_group = getattr(meta, "in_group", None)
        if in_group is not None:
            tags.add(in_group)
        item = getattr(meta, "item", None)
        if item is not None:
            tags.add(item)
        for arg in typing.get_args(field.type):
            for inner in typing.get_args(arg) or (arg,):
                if isinstance(inner, type) and attrs.has(inner):
                    tags |= _attr_tags(inner)
    return frozenset(tags)


def wanted(doc: Doc) -> frozenset[int]:
    """The optional fields shown for `doc`: its own list and what trifix.trading models."""
    return frozenset(doc.optional) | modelled(doc.msg_type.value)


def _build(structure: Structure, wanted: frozenset[int]) -> list[tuple[int, object]]:
    """Fields for an example message: required and wanted ones, groups with one entry."""
    out: list[tuple[int, object]] = []
    for tag in structure.fields:
        group = structure.groups.get(tag)
        if group is not None:
            entry = _build(group.entry, wanted)
            if entry:
                out.append((tag, [entry]))
        elif tag in structure.required or tag in wanted:
            out.append((tag, example(FIX44.fields[tag])))
    return out


def example_message(doc: Doc) -> Message:
    """The example of `doc`'s message type: header, required and documented fields."""
    mdef = FIX44.messages[doc.msg_type]
    header = (
        (Tag.MSG_SEQ_NUM, 2),
        (Tag.SENDER_COMP_ID, "LP1" if doc.direction == LP_TO_GW else "GATEWAY"),
        (Tag.TARGET_COMP_ID, "GATEWAY" if doc.direction == LP_TO_GW else "LP1"),
        (Tag.SENDING_TIME, WHEN),
    )
    msg = Message.new(doc.msg_type, *header)
    for tag, value in _build(mdef.body, wanted(doc)):
        if isinstance(value, list):
            msg.add_group(tag, value)
        else:
            msg.append(tag, value)
    return msg


def _section(doc: Doc) -> list[str]:
    mdef = FIX44.messages[doc.msg_type]
    shown = wanted(doc)
    for tag in doc.optional:  # a typo in MESSAGES must not silently drop a field
        if not any(fdef.tag == tag for _d, fdef, _r in _rows(mdef.body, shown)):
            raise SystemExit(f"{mdef.name}: tag {tag} is not a field of the message")
    lines = [
        f"## {mdef.name} ({doc.msg_type.value})",
        "",
        f"- **Direction:** {doc.direction}",
        f"- **Purpose:** {doc.purpose}",
        f"- **Answered by:** {doc.responses}",
        "",
        "| tag | field | type | required | values or example |",
        "|---|---|---|---|---|",
    ]
    for depth, fdef, required in _rows(mdef.body, shown):
        name = "&nbsp;&nbsp;" * depth + ("↳ " if depth else "") + fdef.name
        need = "yes" if required else ""
        lines.append(f"| {fdef.tag} | {name} | {fdef.type} | {need} | {_values(fdef)} |")
    total = _count(mdef.body)
    listed = sum(1 for _ in _rows(mdef.body, shown))
    if total > listed:
        lines += ["", f"FIX 4.4 defines {total - listed} more optional fields for it."]
    wire = example_message(doc).encode().replace(b"\x01", b"|").decode()
    lines += ["", "```text", wire, "```", ""]
    return lines


def _count(structure: Structure) -> int:
    return sum(
        1 + (_count(structure.groups[t].entry) if t in structure.groups else 0)
        for t in structure.fields
    )


def render() -> str:
    """The whole page."""
    header_fields = ", ".join(
        f"{FIX44.fields[t].name} ({t})" for t in FIX44.header.fields if t in FIX44.header.required
    )
    lines = [
        "# FIX message dictionary",
        "",
        "<!-- Generated by tools/gen_msg_docs.py from trifix's FIX 4.4 dictionary: do not edit."
        " -->",
        "",
        "The FIX 4.4 messages trifix sends and receives: the session-level messages the engine "
        "exchanges itself, and the application messages of orders, market data and quotes. "
        "For each: who sends it, what for, what answers it, its required fields and the "
        "optional ones trifix reads or writes (with types, enum values or an example), and "
        "an example message (`|` stands for SOH). `trifix decode` shows any message field by "
        "field.",
        "",
        f"Every message also carries the standard header ({header_fields}) and the trailer "
        "(CheckSum (10)); the engine writes them. A received message that breaks a rule of "
        "this page is answered with a Reject (3) whose SessionRejectReason (373) names the "
        "fault.",
        "",
        "| message | MsgType | direction |",
        "|---|---|---|",
    ]
    for doc in MESSAGES:
        name = FIX44.messages[doc.msg_type].name
        anchor = f"{name.lower()}-{doc.msg_type.value.lower()}"
        lines.append(f"| [{name}](#{anchor}) | {doc.msg_type.value} | {doc.direction} |")
    lines.append("")
    for doc in MESSAGES:
        lines += _section(doc)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if argv[1:] == ["--check"]:
        current = OUT.read_text("utf-8") if OUT.exists() else ""
        if current != text:
            sys.stderr.write(f"{OUT} is out of date: run python tools/gen_msg_docs.py\n")
            return 1
        return 0
    OUT.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
