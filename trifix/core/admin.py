"""Builders for the session-level (admin) messages, FIX 4.4 Volume 2.

Each returns a `Message` without the standard header; the session stamps 49/56/34/52.
"""

from __future__ import annotations

from datetime import datetime

from trifix.core.message import Message
from trifix.core.tags import BusinessRejectReason, MsgType, Tag
from trifix.core.validate import ValidationError


def logon(
    heartbeat_interval: int,
    *,
    reset: bool = False,
    next_expected: int | None = None,
    username: str | None = None,
    password: str | None = None,
) -> Message:
    """Logon (A): EncryptMethod none, HeartBtInt, and the optional 141/789/553/554."""
    msg = Message.new(
        MsgType.LOGON, (Tag.ENCRYPT_METHOD, 0), (Tag.HEART_BT_INT, heartbeat_interval)
    )
    if reset:
        msg.append(Tag.RESET_SEQ_NUM_FLAG, True)
    if next_expected is not None:
        msg.append(Tag.NEXT_EXPECTED_MSG_SEQ_NUM, next_expected)
    if username is not None:
        msg.append(Tag.USERNAME, username)
    if password is not None:
        msg.append(Tag.PASSWORD, password)
    return msg


def heartbeat(test_req_id: bytes | None = None) -> Message:
    """Heartbeat (0), echoing TestReqID (112) when answering a TestRequest."""
    msg = Message.new(MsgType.HEARTBEAT)
    if test_req_id is not None:
        msg.append(Tag.TEST_REQ_ID, test_req_id)
    return msg


def test_request(test_req_id: str) -> Message:
    """TestRequest (1)."""
    return Message.new(MsgType.TEST_REQUEST, (Tag.TEST_REQ_ID, test_req_id))


def resend_request(begin: int, end: int) -> Message:
    """ResendRequest (2) for [begin, end]; end 0 means everything after begin."""
    return Message.new(MsgType.RESEND_REQUEST, (Tag.BEGIN_SEQ_NO, begin), (Tag.END_SEQ_NO, end))


def reject(ref_seq: int, error: ValidationError) -> Message:
    """Reject (3) for a message that failed validation, with 45/371/372/373/58."""
    return Message.new(MsgType.REJECT, (Tag.REF_SEQ_NUM, ref_seq), *error.reject_fields())


def business_reject(
    ref_seq: int, ref_msg_type: str, reason: BusinessRejectReason, text: str
) -> Message:
    """BusinessMessageReject (j) with 45/372/380/58."""
    return Message.new(
        MsgType.BUSINESS_MESSAGE_REJECT,
        (Tag.REF_SEQ_NUM, ref_seq),
        (Tag.REF_MSG_TYPE, ref_msg_type),
        (Tag.BUSINESS_REJECT_REASON, int(reason)),
        (Tag.TEXT, text),
    )


def gap_fill(new_seq: int, orig_sending_time: datetime) -> Message:
    """SequenceReset-GapFill (4, 123=Y) as sent in a resend: PossDupFlag=Y, OrigSendingTime."""
    return Message.new(
        MsgType.SEQUENCE_RESET,
        (Tag.POSS_DUP_FLAG, True),
        (Tag.ORIG_SENDING_TIME, orig_sending_time),
        (Tag.GAP_FILL_FLAG, True),
        (Tag.NEW_SEQ_NO, new_seq),
    )


def logout(text: str | None = None) -> Message:
    """Logout (5), with an explanatory Text (58) when given."""
    msg = Message.new(MsgType.LOGOUT)
    if text:
        msg.append(Tag.TEXT, text)
    return msg
