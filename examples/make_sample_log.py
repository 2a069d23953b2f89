"""Write examples/sample.log: a short, realistic FIX 4.4 session for `trifix decode` to show.

Run from the repository root: ``python examples/make_sample_log.py``. The output is
deterministic (fixed clock), so regenerating it gives the same file.

The log uses QuickFIX's file log format: one message per line, ``YYYYMMDD-HH:MM:SS.sss : ``
and then the message exactly as on the wire, SOH delimiters included (``cat -v`` shows them as
``^A``; ``tr '\\001' '|'`` turns them into pipes). Messages are built with `Message.new` and
`Message.encode`, so BodyLength and CheckSum are right, except where the story needs them wrong.

The story: TRIFIX (the gateway) logs on to LPSIM (a liquidity provider), answers a
TestRequest, sends an order with a Parties group (nested PartySubIDs) that is acknowledged,
partially filled, replaced and filled; its late cancel is rejected. It subscribes to EUR/USD
market data (a snapshot, then increments). One LP heartbeat arrives garbled (bad CheckSum),
so the gateway asks for a resend and the LP gap-fills. A test order with an invalid Side
(54=0) is rejected with 373=5. Both sides log out.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trifix.core.codec import Framer, GarbledFrame
from trifix.core.message import Message
from trifix.core.tags import (
    CxlRejReason,
    CxlRejResponseTo,
    EncryptMethod,
    ExecType,
    MDEntryType,
    MDUpdateAction,
    MDUpdateType,
    MsgType,
    OrdStatus,
    OrdType,
    PartyIDSource,
    PartyRole,
    SessionRejectReason,
    Side,
    SubscriptionRequestType,
    Tag,
    TimeInForce,
)
from trifix.core.validate import Validator

GATEWAY = "TRIFIX"
LP = "LPSIM"
START = datetime(2024, 3, 12, 9, 30, 0, tzinfo=UTC)
OUT = Path(__file__).with_name("sample.log")
NOW: Any = object()  # a field value standing for the message's SendingTime (for TransactTime)


class Session:
    """Numbers and stamps the messages each side sends, and writes the log lines."""

    def __init__(self) -> None:
        self.now = START
        self.next_seq = {GATEWAY: 1, LP: 1}
        self.lines: list[bytes] = []

    def send(
        self,
        sender: str,
        msg_type: str,
        *fields: tuple[int, Any],
        groups: tuple[tuple[int, list[list[tuple[int, Any]]]], ...] = (),
        after: tuple[tuple[int, Any], ...] = (),
        seq: int | None = None,
        millis: int = 250,
    ) -> bytes:
        """Encode and log one message; `groups` and then `after` follow `fields` in the body."""
        self.now += timedelta(milliseconds=millis)
        target = LP if sender == GATEWAY else GATEWAY
        if seq is None:
            seq = self.next_seq[sender]
            self.next_seq[sender] += 1
        msg = Message.new(
            msg_type,
            (Tag.MSG_SEQ_NUM, seq),
            (Tag.SENDER_COMP_ID, sender),
            (Tag.SENDING_TIME, self.now),
            (Tag.TARGET_COMP_ID, target),
            *((tag, self.now if value is NOW else value) for tag, value in fields),
        )
        for count_tag, entries in groups:
            msg.add_group(count_tag, entries)
        for tag, value in after:
            msg.append(tag, self.now if value is NOW else value)
        frame = msg.encode()
        self.lines.append(self.stamp() + frame)
        return frame

    def stamp(self) -> bytes:
        return f"{self.now:%Y%m%d-%H:%M:%S}.{self.now.microsecond // 1000:03d} : ".encode()


def write_story(s: Session) -> None:
    eurusd = ((Tag.SYMBOL, "EUR/USD"),)
    s.send(
        GATEWAY,
        MsgType.LOGON,
        (Tag.ENCRYPT_METHOD, EncryptMethod.NONE),
        (Tag.HEART_BT_INT, 30),
        (Tag.RESET_SEQ_NUM_FLAG, True),
        millis=0,
    )
    s.send(
        LP,
        MsgType.LOGON,
        (Tag.ENCRYPT_METHOD, EncryptMethod.NONE),
        (Tag.HEART_BT_INT, 30),
        (Tag.RESET_SEQ_NUM_FLAG, True),
        millis=12,
    )
    s.send(LP, MsgType.TEST_REQUEST, (Tag.TEST_REQ_ID, "TEST-1"), millis=30_000)
    s.send(GATEWAY, MsgType.HEARTBEAT, (Tag.TEST_REQ_ID, "TEST-1"), millis=4)

    # An order with two parties; the trader's entry carries a nested PartySubIDs group.
    parties: list[list[tuple[int, Any]]] = [
        [
            (Tag.PARTY_ID, "DESK-7"),
            (Tag.PARTY_ID_SOURCE, PartyIDSource.PROPRIETARY),
            (Tag.PARTY_ROLE, PartyRole.ORDER_ORIGINATION_TRADER),
            (Tag.NO_PARTY_SUB_IDS, [[(Tag.PARTY_SUB_ID, "FX-EMEA"), (Tag.PARTY_SUB_ID_TYPE, 24)]]),
        ],
        [
            (Tag.PARTY_ID, "TRIFIX-GW"),
            (Tag.PARTY_ID_SOURCE, PartyIDSource.PROPRIETARY),
            (Tag.PARTY_ROLE, PartyRole.EXECUTING_FIRM),
        ],
    ]
    order = (
        *eurusd,
        (Tag.SIDE, Side.BUY),
        (Tag.TRANSACT_TIME, NOW),
        (Tag.ORDER_QTY, 1_000_000),
        (Tag.ORD_TYPE, OrdType.LIMIT),
        (Tag.PRICE, "1.08520"),
        (Tag.CURRENCY, "EUR"),
        (Tag.TIME_IN_FORCE, TimeInForce.DAY),
    )
    s.send(
        GATEWAY,
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, "ORD-1001"),
        (Tag.ACCOUNT, "ACC-7"),
        groups=((Tag.NO_PARTY_IDS, parties),),
        after=order,
        millis=4_000,
    )

    def report(
        exec_id: str,
        cl_ord_id: str,
        exec_type: ExecType,
        status: OrdStatus,
        qty: int,
        leaves: int,
        cum: int,
        avg: str,
        last: tuple[tuple[int, Any], ...] = (),
        orig: str | None = None,
    ) -> None:
        extra = ((Tag.ORIG_CL_ORD_ID, orig),) if orig else ()
        s.send(
            LP,
            MsgType.EXECUTION_REPORT,
            (Tag.ORDER_ID, "LP-55001"),
            (Tag.CL_ORD_ID, cl_ord_id),
            *extra,
            (Tag.EXEC_ID, exec_id),
            (Tag.EXEC_TYPE, exec_type),
            (Tag.ORD_STATUS, status),
            *eurusd,
            (Tag.SIDE, Side.BUY),
            (Tag.ORDER_QTY, qty),
            *last,
            (Tag.LEAVES_QTY, leaves),
            (Tag.CUM_QTY, cum),
            (Tag.AVG_PX, avg),
            millis=3,
        )

    report("EX-1", "ORD-1001", ExecType.NEW, OrdStatus.NEW, 1_000_000, 1_000_000, 0, "0")
    fill = ((Tag.LAST_QTY, 400_000), (Tag.LAST_PX, "1.08520"))
    report(
        "EX-2",
        "ORD-1001",
        ExecType.TRADE,
        OrdStatus.PARTIALLY_FILLED,
        1_000_000,
        600_000,
        400_000,
        "1.08520",
        fill,
    )

    s.send(
        GATEWAY,
        MsgType.ORDER_CANCEL_REPLACE_REQUEST,
        (Tag.ORIG_CL_ORD_ID, "ORD-1001"),
        (Tag.CL_ORD_ID, "ORD-1002"),
        *eurusd,
        (Tag.SIDE, Side.BUY),
        (Tag.TRANSACT_TIME, NOW),
        (Tag.ORDER_QTY, 800_000),
        (Tag.ORD_TYPE, OrdType.LIMIT),
        (Tag.PRICE, "1.08530"),
        millis=1_500,
    )
    report(
        "EX-3",
        "ORD-1002",
        ExecType.REPLACED,
        OrdStatus.PARTIALLY_FILLED,
        800_000,
        400_000,
        400_000,
        "1.08520",
        orig="ORD-1001",
    )
    fill = ((Tag.LAST_QTY, 400_000), (Tag.LAST_PX, "1.08530"))
    report(
        "EX-4", "ORD-1002", ExecType.TRADE, OrdStatus.FILLED, 800_000, 0, 800_000, "1.08525", fill
    )

    # Too late: the order is filled.
    s.send(
        GATEWAY,
        MsgType.ORDER_CANCEL_REQUEST,
        (Tag.ORIG_CL_ORD_ID, "ORD-1002"),
        (Tag.CL_ORD_ID, "ORD-1003"),
        *eurusd,
        (Tag.SIDE, Side.BUY),
        (Tag.TRANSACT_TIME, NOW),
        millis=2,
    )
    s.send(
        LP,
        MsgType.ORDER_CANCEL_REJECT,
        (Tag.ORDER_ID, "LP-55001"),
        (Tag.CL_ORD_ID, "ORD-1003"),
        (Tag.ORIG_CL_ORD_ID, "ORD-1002"),
        (Tag.ORD_STATUS, OrdStatus.FILLED),
        (Tag.CXL_REJ_RESPONSE_TO, CxlRejResponseTo.ORDER_CANCEL_REQUEST),
        (Tag.CXL_REJ_REASON, CxlRejReason.TOO_LATE_TO_CANCEL),
        (Tag.TEXT, "order is filled"),
        millis=3,
    )

    # Market data: top 5 levels of EUR/USD, snapshot then increments.
    s.send(
        GATEWAY,
        MsgType.MARKET_DATA_REQUEST,
        (Tag.MD_REQ_ID, "MD-1"),
        (Tag.SUBSCRIPTION_REQUEST_TYPE, SubscriptionRequestType.SNAPSHOT_AND_UPDATES),
        (Tag.MARKET_DEPTH, 5),
        (Tag.MD_UPDATE_TYPE, MDUpdateType.INCREMENTAL_REFRESH),
        groups=(
            (
                Tag.NO_MD_ENTRY_TYPES,
                [[(Tag.MD_ENTRY_TYPE, MDEntryType.BID)], [(Tag.MD_ENTRY_TYPE, MDEntryType.OFFER)]],
            ),
            (Tag.NO_RELATED_SYM, [list(eurusd)]),
        ),
        millis=500,
    )
    book = [
        (MDEntryType.BID, "1.08518", 1_000_000),
        (MDEntryType.BID, "1.08516", 3_000_000),
        (MDEntryType.OFFER, "1.08522", 1_000_000),
        (MDEntryType.OFFER, "1.08525", 5_000_000),
    ]
    s.send(
        LP,
        MsgType.MARKET_DATA_SNAPSHOT_FULL_REFRESH,
        (Tag.MD_REQ_ID, "MD-1"),
        *eurusd,
        groups=(
            (
                Tag.NO_MD_ENTRIES,
                [
                    [(Tag.MD_ENTRY_TYPE, t), (Tag.MD_ENTRY_PX, px), (Tag.MD_ENTRY_SIZE, size)]
                    for t, px, size in book
                ],
            ),
        ),
        millis=8,
    )

    def increment(px_bid: str, px_old: str) -> None:
        s.send(
            LP,
            MsgType.MARKET_DATA_INCREMENTAL_REFRESH,
            (Tag.MD_REQ_ID, "MD-1"),
            groups=(
                (
                    Tag.NO_MD_ENTRIES,
                    [
                        [
                            (Tag.MD_UPDATE_ACTION, MDUpdateAction.NEW),
                            (Tag.MD_ENTRY_TYPE, MDEntryType.BID),
                            *eurusd,
                            (Tag.MD_ENTRY_PX, px_bid),
                            (Tag.MD_ENTRY_SIZE, 2_000_000),
                        ],
                        [
                            (Tag.MD_UPDATE_ACTION, MDUpdateAction.DELETE),
                            (Tag.MD_ENTRY_TYPE, MDEntryType.BID),
                            *eurusd,
                            (Tag.MD_ENTRY_PX, px_old),
                        ],
                    ],
                ),
            ),
            millis=120,
        )

    increment("1.08519", "1.08516")

    # A heartbeat from the LP arrives with a corrupted CheckSum: the gateway drops it (garbled).
    frame = s.send(LP, MsgType.HEARTBEAT, millis=30_000)
    bad = b"%03d" % ((int(frame[-4:-1]) + 1) % 256)
    s.lines[-1] = s.lines[-1][:-4] + bad + b"\x01"
    increment("1.08521", "1.08518")

    # The next LP message is 11 while 10 was expected: ask for it; the LP gap-fills.
    s.send(GATEWAY, MsgType.RESEND_REQUEST, (Tag.BEGIN_SEQ_NO, 10), (Tag.END_SEQ_NO, 0), millis=1)
    orig_time = s.now - timedelta(milliseconds=121)
    s.send(
        LP,
        MsgType.SEQUENCE_RESET,
        (Tag.POSS_DUP_FLAG, True),
        (Tag.ORIG_SENDING_TIME, orig_time),
        (Tag.GAP_FILL_FLAG, True),
        (Tag.NEW_SEQ_NO, 11),
        seq=10,
        millis=3,
    )
    s.send(GATEWAY, MsgType.HEARTBEAT, millis=25_000)

    # A test order with a Side that FIX 4.4 does not define: the LP answers with a Reject.
    bad_order = s.send(
        GATEWAY,
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, "ORD-1004"),
        *eurusd,
        (Tag.SIDE, "0"),
        (Tag.TRANSACT_TIME, NOW),
        (Tag.ORDER_QTY, 100_000),
        (Tag.ORD_TYPE, OrdType.MARKET),
        millis=2_000,
    )
    error = Validator().validate(Message.from_frame(bad_order))
    if error is None or error.reason != SessionRejectReason.VALUE_IS_INCORRECT:
        sys.exit(f"the test order should be rejected with 373=5, not {error!r}")
    s.send(
        LP,
        MsgType.REJECT,
        (Tag.REF_SEQ_NUM, s.next_seq[GATEWAY] - 1),
        *error.reject_fields(),
        millis=2,
    )
    s.send(LP, MsgType.HEARTBEAT, millis=30_000)
    s.send(GATEWAY, MsgType.LOGOUT, (Tag.TEXT, "end of day"), millis=5_000)
    s.send(LP, MsgType.LOGOUT, millis=6)


def check(lines: list[bytes]) -> None:
    """Every line decodes as intended: all valid but the bad Side and the bad CheckSum."""
    validator = Validator()
    problems = []
    for n, line in enumerate(lines, 1):
        (frame,) = Framer().feed(line[line.index(b"8=FIX") :])
        if isinstance(frame, GarbledFrame):
            problems.append((n, frame.reason.split(" ")[0]))
        elif (error := validator.validate(frame)) is not None:
            problems.append((n, error.reason.name))
    expected = [(16, "CheckSum"), (21, "VALUE_IS_INCORRECT")]
    if problems != expected:
        sys.exit(f"sample log is not as intended: {problems} != {expected}")


def main() -> None:
    s = Session()
    write_story(s)
    check(s.lines)
    OUT.write_bytes(b"".join(line + b"\n" for line in s.lines))
    print(f"wrote {len(s.lines)} messages to {OUT.name}")


if __name__ == "__main__":
    main()
