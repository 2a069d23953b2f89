"""FIX session-layer test cases 7 (Reject received) and 14 (invalid messages answered with the
validator's Reject: SessionRejectReason, RefTagID, RefMsgType, Text), FIX 4.4, for both roles."""

from __future__ import annotations

import pytest

from tests.core.session_pair import ROLES, T0, DirectSession, raw_frame
from tests.core.session_pair import news_body as news
from trifix.core.events import (
    AdminMessageReceived,
    AppMessageReceived,
    Disconnected,
    Event,
    RejectReceived,
    RejectSent,
)
from trifix.core.message import Message
from trifix.core.settings import Role
from trifix.core.tags import MsgType, SessionRejectReason, Tag

NEWS = MsgType.NEWS
R = SessionRejectReason


def logged_on(role: Role) -> DirectSession:
    d = DirectSession(role)
    d.logon()
    return d


def headlines(events: list[Event]) -> list[bytes | None]:
    return [e.message.get(Tag.HEADLINE) for e in events if isinstance(e, AppMessageReceived)]


def assert_reject(msg: Message, ref_seq: int, reason: int, ref_tag: int, ref_type: str) -> None:
    assert msg.msg_type == MsgType.REJECT
    assert msg.get(Tag.REF_SEQ_NUM) == b"%d" % ref_seq
    assert msg.get(Tag.SESSION_REJECT_REASON) == b"%d" % reason
    assert msg.get(Tag.REF_TAG_ID) == b"%d" % ref_tag
    assert msg.get(Tag.REF_MSG_TYPE) == ref_type.encode()


# -- 7: Reject received ----------------------------------------------------------------------------


@ROLES
def test_7_reject_received_delivered_not_answered(role: Role) -> None:
    d = logged_on(role)
    d.receive(
        MsgType.REJECT,
        (Tag.REF_SEQ_NUM, 1),
        (Tag.REF_TAG_ID, 58),
        (Tag.SESSION_REJECT_REASON, 5),
        (Tag.TEXT, "bad value"),
    )
    events = d.events()
    assert [type(e) for e in events] == [AdminMessageReceived, RejectReceived]
    received = events[1]
    assert isinstance(received, RejectReceived)
    assert (received.ref_seq, received.reason, received.text) == (1, 5, "bad value")
    assert received.message.msg_type == MsgType.REJECT
    assert d.sent() == []
    assert d.session.next_target_seq == 3
    assert d.session.is_logged_on


# -- 14: invalid messages answered with the validator's Reject ------------------------------------

NEWS_HEAD = ((Tag.HEADLINE, "h"),)
LINES = ((Tag.NO_LINES_OF_TEXT, 1), (Tag.TEXT, "line"))


@ROLES
@pytest.mark.parametrize(
    ("body", "reason", "ref_tag", "text"),
    [
        (LINES, R.REQUIRED_TAG_MISSING, 148, "Required tag missing, field=148"),
        (
            (*NEWS_HEAD, (Tag.CL_ORD_ID, "X"), *LINES),
            R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE,
            11,
            "Tag not defined for this message type, field=11",
        ),
        ((*NEWS_HEAD, (4999, "x"), *LINES), R.UNDEFINED_TAG, 4999, "Undefined tag, field=4999"),
        (
            ((Tag.HEADLINE, ""), *LINES),
            R.TAG_SPECIFIED_WITHOUT_A_VALUE,
            148,
            "Tag specified without a value, field=148",
        ),
        (
            (*NEWS_HEAD, (Tag.URGENCY, "9"), *LINES),
            R.VALUE_IS_INCORRECT,
            61,
            "Value is incorrect (out of range) for this tag, field=61",
        ),
        (
            (*NEWS_HEAD, (Tag.ORIG_TIME, "yesterday"), *LINES),
            R.INCORRECT_DATA_FORMAT_FOR_VALUE,
            42,
            "Incorrect data format for value, field=42",
        ),
        (
            (*NEWS_HEAD, *LINES, (Tag.HEADLINE, "again")),
            R.TAG_APPEARS_MORE_THAN_ONCE,
            148,
            "Tag appears more than once, field=148",
        ),
        (
            (*NEWS_HEAD, *LINES, (Tag.POSS_RESEND, "N")),
            R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER,
            97,
            "Tag specified out of required order, field=97",
        ),
        (
            (*NEWS_HEAD, (Tag.NO_LINES_OF_TEXT, 2), (Tag.TEXT, "line")),
            R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP,
            33,
            "Incorrect NumInGroup count for repeating group, field=33 (NumInGroup says 2, found 1)",
        ),
    ],
    ids=lambda v: str(int(v)) if isinstance(v, SessionRejectReason) else None,
)
def test_14_invalid_message_rejected_with_reason_and_ref_tag(
    role: Role, body: tuple[tuple[int, object], ...], reason: R, ref_tag: int, text: str
) -> None:
    d = logged_on(role)
    d.receive(NEWS, *body)
    [reject] = d.sent()
    assert_reject(reject, 2, reason, ref_tag, NEWS)
    assert reject.get(Tag.TEXT) == text.encode()
    assert reject.get(Tag.MSG_SEQ_NUM) == b"2"
    assert d.events() == [RejectSent(2, reason, ref_tag, text)]
    assert d.session.next_target_seq == 3  # consumed
    assert d.session.is_logged_on
    d.receive(NEWS, *news("next"))  # and the session carries on
    assert headlines(d.events()) == [b"next"]


@ROLES
def test_14_invalid_admin_message_rejected_not_acted_on(role: Role) -> None:
    d = logged_on(role)
    d.receive(MsgType.TEST_REQUEST)  # TestReqID (112) missing
    [reject] = d.sent()  # no Heartbeat
    assert_reject(reject, 2, R.REQUIRED_TAG_MISSING, Tag.TEST_REQ_ID, MsgType.TEST_REQUEST)
    assert d.session.next_target_seq == 3


@ROLES
def test_14_missing_msg_seq_num_rejected(role: Role) -> None:
    d = logged_on(role)
    sender, target = d.settings.target_comp_id, d.settings.sender_comp_id
    d.feed(raw_frame([(35, NEWS), (49, sender), (56, target), (52, T0), *news("a")]))
    [reject] = d.sent()
    assert_reject(reject, 0, R.REQUIRED_TAG_MISSING, Tag.MSG_SEQ_NUM, NEWS)
    assert d.session.next_target_seq == 2  # nothing to consume


# -- validation off: the header checks the session makes itself ----------------------------------


def _raw(d: DirectSession, *fields: tuple[int, object]) -> bytes:
    head = [(35, NEWS), (49, d.settings.target_comp_id), (56, d.settings.sender_comp_id)]
    return raw_frame([*head, *fields, *news("a")])


@ROLES
@pytest.mark.parametrize(
    ("fields", "reason", "ref_tag", "logout"),
    [
        (((Tag.SENDING_TIME, T0),), R.REQUIRED_TAG_MISSING, Tag.MSG_SEQ_NUM, False),
        (((Tag.MSG_SEQ_NUM, "two"), (Tag.SENDING_TIME, T0)), R.REQUIRED_TAG_MISSING, 34, False),
        (((Tag.MSG_SEQ_NUM, 2),), R.REQUIRED_TAG_MISSING, Tag.SENDING_TIME, True),
        (
            ((Tag.MSG_SEQ_NUM, 2), (Tag.SENDING_TIME, "20261125")),
            R.INCORRECT_DATA_FORMAT_FOR_VALUE,
            Tag.SENDING_TIME,
            True,
        ),
        (
            ((Tag.MSG_SEQ_NUM, 2), (Tag.SENDING_TIME, "20261125-25:00:00.000")),
            R.INCORRECT_DATA_FORMAT_FOR_VALUE,
            Tag.SENDING_TIME,
            True,
        ),
        (
            (
                (Tag.MSG_SEQ_NUM, 2),
                (Tag.SENDING_TIME, T0),
                (Tag.POSS_DUP_FLAG, True),
                (Tag.ORIG_SENDING_TIME, "yesterday"),
            ),
            R.INCORRECT_DATA_FORMAT_FOR_VALUE,
            Tag.ORIG_SENDING_TIME,
            False,
        ),
    ],
    ids=[
        "no-34",
        "34-not-a-number",
        "no-52",
        "52-too-short",
        "52-bad-hour",
        "122-malformed",
    ],
)
def test_validation_off_header_faults_still_answered(
    role: Role,
    fields: tuple[tuple[int, object], ...],
    reason: R,
    ref_tag: int,
    logout: bool,
) -> None:
    d = DirectSession(role, validate=False)
    d.logon()
    d.feed(_raw(d, *fields))
    out = d.sent()
    assert [m.msg_type for m in out] == [MsgType.REJECT] + [MsgType.LOGOUT] * logout
    ref_seq = 2 if any(t == Tag.MSG_SEQ_NUM and v == 2 for t, v in fields) else 0
    assert_reject(out[0], ref_seq, reason, ref_tag, NEWS)
    assert headlines(d.events()) == []
    assert d.session.is_logged_on is not logout


@ROLES
@pytest.mark.parametrize(
    ("msg_type", "body", "reason", "ref_tag"),
    [
        (MsgType.RESEND_REQUEST, ((Tag.BEGIN_SEQ_NO, 1),), R.REQUIRED_TAG_MISSING, 16),
        (
            MsgType.RESEND_REQUEST,
            ((Tag.BEGIN_SEQ_NO, "one"), (Tag.END_SEQ_NO, 0)),
            R.INCORRECT_DATA_FORMAT_FOR_VALUE,
            7,
        ),
        (MsgType.SEQUENCE_RESET, ((Tag.GAP_FILL_FLAG, True),), R.REQUIRED_TAG_MISSING, 36),
        (MsgType.SEQUENCE_RESET, (), R.REQUIRED_TAG_MISSING, 36),
    ],
    ids=["rr-no-16", "rr-bad-7", "gap-fill-no-36", "reset-no-36"],
)
def test_validation_off_unreadable_admin_fields_rejected_not_raised(
    role: Role, msg_type: str, body: tuple[tuple[int, object], ...], reason: R, ref_tag: int
) -> None:
    d = DirectSession(role, validate=False)
    d.logon()
    d.receive(msg_type, *body)
    [reject] = d.sent()
    assert_reject(reject, 2, reason, ref_tag, msg_type)
    assert d.session.next_target_seq == 3
    assert d.session.is_logged_on


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "Invalid Logon: Required tag missing, field=108"),
        ("soon", "Invalid Logon: Incorrect data format for value, field=108"),
    ],
)
def test_validation_off_logon_without_readable_heartbtint_refused(
    value: str | None, text: str
) -> None:
    d = DirectSession(Role.ACCEPTOR, validate=False)
    d.connect()
    d.receive(MsgType.LOGON, (Tag.ENCRYPT_METHOD, 0), *([(Tag.HEART_BT_INT, value)] * bool(value)))
    [logout] = d.sent()
    assert (logout.msg_type, logout.get(Tag.TEXT)) == (MsgType.LOGOUT, text.encode())
    assert d.events()[-1] == Disconnected(text, error=True)
