"""Write examples/quickfix/: a QuickFIX file log of an incident, for `trifix replay` to show.

Run from the repository root: ``python examples/make_incident_log.py``. The output is
deterministic (fixed clock), so regenerating it gives the same files.

QuickFIX's file log writes two files per session: ``<session>.messages.current.log``, one
message a line as ``YYYYMMDD-HH:MM:SS.sss : 8=FIX.4.4<SOH>...``, and
``<session>.event.current.log``, the session's events as text (not messages).

The incident: GATEWAY logs on to LP1 and sends an order; LP1's ExecutionReports 4 and 5 are
lost, so LP1's seq 6 reveals a gap; the gateway asks for a resend, LP1 resends 4 (PossDup) and
gap-fills 5. LP1 then sends seq 6 again as a PossDup duplicate. A second order carries an
invalid Side (54=Z), which LP1 rejects (373=5); LP1 then sends an ExecutionReport without
OrdStatus (39), which the gateway rejects. LP1 goes silent, the gateway's TestRequest goes
unanswered, and it logs out.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from trifix.core.message import Message
from trifix.core.tags import (
    EncryptMethod,
    ExecType,
    MsgType,
    OrdStatus,
    OrdType,
    SessionRejectReason,
    Side,
    Tag,
)

GATEWAY = "GATEWAY"
LP = "LP1"
START = datetime(2026, 3, 12, 9, 30, 0, tzinfo=UTC)
DIR = Path(__file__).with_name("quickfix")
NAME = f"FIX.4.4-{GATEWAY}-{LP}"


class Log:
    """Numbers, stamps and logs the messages each side sends, QuickFIX style."""

    def __init__(self) -> None:
        self.now = START
        self.next_seq = {GATEWAY: 1, LP: 1}
        self.messages: list[bytes] = []
        self.events: list[bytes] = []

    def stamp(self) -> bytes:
        return f"{self.now:%Y%m%d-%H:%M:%S}.{self.now.microsecond // 1000:03d} : ".encode()

    def event(self, text: str) -> None:
        self.events.append(self.stamp() + text.encode() + b"\n")

    def send(
        self,
        sender: str,
        msg_type: str,
        *fields: tuple[int, Any],
        millis: int = 250,
        seq: int | None = None,
        header: tuple[tuple[int, Any], ...] = (),
        logged: bool = True,
    ) -> None:
        """Encode one message; `logged=False` loses it on the way (not in the log)."""
        self.now += timedelta(milliseconds=millis)
        if seq is None:
            seq = self.next_seq[sender]
            self.next_seq[sender] += 1
        msg = Message.new(
            msg_type,
            (Tag.MSG_SEQ_NUM, seq),
            (Tag.SENDER_COMP_ID, sender),
            (Tag.SENDING_TIME, self.now),
            (Tag.TARGET_COMP_ID, LP if sender == GATEWAY else GATEWAY),
            *header,
            *fields,
        )
        if logged:
            self.messages.append(self.stamp() + msg.encode() + b"\n")


def order(cl_ord_id: str, side: str) -> tuple[tuple[int, Any], ...]:
    return (
        (Tag.CL_ORD_ID, cl_ord_id),
        (Tag.SYMBOL, "EUR/USD"),
        (Tag.SIDE, side),
        (Tag.TRANSACT_TIME, START),
        (Tag.ORDER_QTY, 1_000_000),
        (Tag.ORD_TYPE, OrdType.LIMIT),
        (Tag.PRICE, Decimal("1.0852")),
    )


def report(exec_id: str, exec_type: str, status: str | None, cum: int) -> tuple[Any, ...]:
    fields: list[tuple[int, Any]] = [
        (Tag.ORDER_ID, "LP1-0001"),
        (Tag.EXEC_ID, exec_id),
        (Tag.EXEC_TYPE, exec_type),
    ]
    if status is not None:
        fields.append((Tag.ORD_STATUS, status))
    fields += [
        (Tag.SYMBOL, "EUR/USD"),
        (Tag.SIDE, Side.BUY),
        (Tag.LEAVES_QTY, 1_000_000 - cum),
        (Tag.CUM_QTY, cum),
        (Tag.AVG_PX, Decimal("1.0852") if cum else 0),
        (Tag.CL_ORD_ID, "ORD-1"),
    ]
    return tuple(fields)


def write_story(log: Log) -> None:
    logon = ((Tag.ENCRYPT_METHOD, EncryptMethod.NONE), (Tag.HEART_BT_INT, 30))
    log.event("Created session")
    log.event("Connecting to lp1.example on port 9876")
    log.send(GATEWAY, MsgType.LOGON, *logon, (Tag.RESET_SEQ_NUM_FLAG, True), millis=0)
    log.event("Initiated logon request")
    log.send(LP, MsgType.LOGON, *logon, (Tag.RESET_SEQ_NUM_FLAG, True), millis=15)
    log.event("Received logon")
    log.send(GATEWAY, MsgType.NEW_ORDER_SINGLE, *order("ORD-1", Side.BUY), millis=2_000)
    log.send(LP, MsgType.EXECUTION_REPORT, *report("E-1", ExecType.NEW, OrdStatus.NEW, 0))
    log.send(LP, MsgType.HEARTBEAT, millis=20_000)
    half = report("E-2", ExecType.TRADE, OrdStatus.PARTIALLY_FILLED, 400_000)
    log.send(LP, MsgType.EXECUTION_REPORT, *half, logged=False)  # seq 4: lost
    log.send(LP, MsgType.HEARTBEAT, logged=False)  # seq 5: lost
    log.send(LP, MsgType.HEARTBEAT, millis=10_000)  # seq 6: the gap shows
    log.event("MsgSeqNum too high, expecting 4 but received 6")
    log.send(GATEWAY, MsgType.RESEND_REQUEST, (Tag.BEGIN_SEQ_NO, 4), (Tag.END_SEQ_NO, 0))
    log.event("Sent ResendRequest FROM: 4 TO: INFINITY")
    original = START + timedelta(seconds=32, milliseconds=515)
    resent = ((Tag.POSS_DUP_FLAG, True), (Tag.ORIG_SENDING_TIME, original))
    log.send(LP, MsgType.EXECUTION_REPORT, *half, seq=4, header=resent)
    log.send(
        LP,
        MsgType.SEQUENCE_RESET,
        (Tag.GAP_FILL_FLAG, True),
        (Tag.NEW_SEQ_NO, 6),
        seq=5,
        header=((Tag.POSS_DUP_FLAG, True),),
    )
    log.event("ResendRequest for messages FROM: 4 TO: INFINITY has been satisfied.")
    log.send(LP, MsgType.HEARTBEAT, seq=6, header=resent)  # a duplicate of seq 6
    log.send(GATEWAY, MsgType.NEW_ORDER_SINGLE, *order("ORD-2", "Z"), millis=5_000)
    log.send(
        LP,
        MsgType.REJECT,
        (Tag.REF_SEQ_NUM, 4),
        (Tag.REF_TAG_ID, Tag.SIDE),
        (Tag.REF_MSG_TYPE, MsgType.NEW_ORDER_SINGLE),
        (Tag.SESSION_REJECT_REASON, SessionRejectReason.VALUE_IS_INCORRECT),
        (Tag.TEXT, "Value is incorrect (out of range) for this tag, field=54"),
    )
    log.send(LP, MsgType.EXECUTION_REPORT, *report("E-3", ExecType.TRADE, None, 1_000_000))
    log.send(
        GATEWAY,
        MsgType.REJECT,
        (Tag.REF_SEQ_NUM, 8),
        (Tag.REF_TAG_ID, Tag.ORD_STATUS),
        (Tag.REF_MSG_TYPE, MsgType.EXECUTION_REPORT),
        (Tag.SESSION_REJECT_REASON, SessionRejectReason.REQUIRED_TAG_MISSING),
        (Tag.TEXT, "Required tag missing, field=39"),
        millis=3,
    )
    # LP1 goes silent; the gateway keeps sending heartbeats.
    log.send(GATEWAY, MsgType.HEARTBEAT, millis=30_000)
    log.send(GATEWAY, MsgType.TEST_REQUEST, (Tag.TEST_REQ_ID, "TEST-1"), millis=15_000)
    log.event("Sent test request TEST")
    log.send(GATEWAY, MsgType.HEARTBEAT, millis=30_000)
    log.now += timedelta(seconds=15)
    log.event("Timed out waiting for heartbeat")
    log.send(GATEWAY, MsgType.LOGOUT, (Tag.TEXT, "Timed out waiting for heartbeat"), millis=0)
    log.event("Disconnecting")


def main() -> None:
    log = Log()
    write_story(log)
    DIR.mkdir(exist_ok=True)
    (DIR / f"{NAME}.messages.current.log").write_bytes(b"".join(log.messages))
    (DIR / f"{NAME}.event.current.log").write_bytes(b"".join(log.events))
    sys.stdout.write(f"wrote {len(log.messages)} messages to {DIR}\n")


if __name__ == "__main__":
    main()
