"""FIX session-layer test cases 2 (message standard header) and 19 (PossResend), FIX 4.4, for
both roles (7 and 14 are in test_session_reject.py).

The session under test is logged on (both sequence numbers at 2); the test writes the peer's
frames by hand and checks what goes back, the events and the sequence numbers.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.core.session_pair import ROLES, T0, DirectSession
from tests.core.session_pair import news_body as news
from trifix.core.events import (
    AppMessageReceived,
    BusinessRejectSent,
    Disconnected,
    DuplicateIgnored,
    Event,
    GapDetected,
    GapFilled,
    GarbledMessageIgnored,
    LogoutSent,
    RejectSent,
)
from trifix.core.message import Message
from trifix.core.settings import Role
from trifix.core.state import SessionState
from trifix.core.tags import BusinessRejectReason, MsgType, SessionRejectReason, Tag

NEWS = MsgType.NEWS
R = SessionRejectReason


def poss_dup(orig: object = T0) -> tuple[tuple[int, object], ...]:
    return ((Tag.POSS_DUP_FLAG, True), (Tag.ORIG_SENDING_TIME, orig))


def logged_on(role: Role, **options: object) -> DirectSession:
    d = DirectSession(role, **options)
    d.logon()
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (2, 2)
    return d


def headlines(events: list[Event]) -> list[bytes | None]:
    return [e.message.get(Tag.HEADLINE) for e in events if isinstance(e, AppMessageReceived)]


def assert_reject(msg: Message, ref_seq: int, reason: int, ref_tag: int, ref_type: str) -> None:
    assert msg.msg_type == MsgType.REJECT
    assert msg.get(Tag.REF_SEQ_NUM) == b"%d" % ref_seq
    assert msg.get(Tag.SESSION_REJECT_REASON) == b"%d" % reason
    assert msg.get(Tag.REF_TAG_ID) == b"%d" % ref_tag
    assert msg.get(Tag.REF_MSG_TYPE) == ref_type.encode()


def assert_logged_out(d: DirectSession, out: list[Message], text: str) -> None:
    assert out[-1].msg_type == MsgType.LOGOUT
    assert out[-1].get(Tag.TEXT) == text.encode()
    assert d.session.state is SessionState.DISCONNECTED


def reframe(frame: bytes, old: bytes, new: bytes) -> bytes:
    """Replace bytes inside a frame and recompute its CheckSum (BodyLength left alone)."""
    body = frame[:-7].replace(old, new, 1)
    return body + b"10=%03d\x01" % (sum(body) % 256)


# -- 2 a, b: expected and too high -----------------------------------------------------------


@ROLES
def test_2_a_seq_as_expected_accepted(role: Role) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("a"))
    [event] = d.events()
    assert isinstance(event, AppMessageReceived)
    assert event.message.get(Tag.HEADLINE) == b"a"
    assert (event.poss_dup, event.poss_resend) == (False, False)
    assert d.sent() == []
    assert d.session.next_target_seq == 3


@ROLES
def test_2_b_seq_too_high_sends_resend_request_and_stashes_until_the_gap_is_filled(
    role: Role,
) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("c"), seq=4)
    [request] = d.sent()
    assert request.msg_type == MsgType.RESEND_REQUEST
    assert request.get(Tag.MSG_SEQ_NUM) == b"2"
    assert (request.get(Tag.BEGIN_SEQ_NO), request.get(Tag.END_SEQ_NO)) == (b"2", b"0")
    assert d.events() == [GapDetected(2, 4, 2, 0)]
    assert d.session.next_target_seq == 2

    d.receive(NEWS, *news("d"), seq=5)
    assert d.sent() == []  # already asked for everything from 2
    assert d.events() == []

    d.receive(NEWS, *news("a"), seq=2, header=poss_dup())
    events = d.events()
    assert headlines(events) == [b"a"]
    assert d.session.next_target_seq == 3
    d.receive(NEWS, *news("b"), seq=3, header=poss_dup())
    events = d.events()
    assert headlines(events) == [b"b", b"c", b"d"]  # the resent one, then the stash in order
    assert [e.poss_dup for e in events if isinstance(e, AppMessageReceived)] == [
        True,
        False,
        False,
    ]
    assert events[-1] == GapFilled(6)
    assert d.session.next_target_seq == 6
    assert not d.session.awaiting_resend

    # The rest of the peer's replay repeats what was stashed: never delivered twice.
    d.receive(NEWS, *news("c"), seq=4, header=poss_dup())
    d.receive(NEWS, *news("d"), seq=5, header=poss_dup())
    assert d.events() == [DuplicateIgnored(4, NEWS), DuplicateIgnored(5, NEWS)]
    assert d.sent() == []
    assert d.session.next_target_seq == 6


# -- 2 c: too low without PossDupFlag ----------------------------------------------------------


@ROLES
def test_2_c_seq_too_low_without_poss_dup_logs_out(role: Role) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("a"))
    d.events()
    d.receive(NEWS, *news("again"), seq=2)
    text = "MsgSeqNum too low, expecting 3 but received 2"
    out = d.sent()
    assert [m.msg_type for m in out] == [MsgType.LOGOUT]
    assert_logged_out(d, out, text)
    assert d.events() == [LogoutSent(text), Disconnected(text, error=True)]
    assert d.session.next_target_seq == 3


# -- 2 d, j, n: garbled ------------------------------------------------------------------------


def _bad_checksum(frame: bytes) -> bytes:
    digits = int(frame[-4:-1])
    return frame[:-4] + b"%03d\x01" % ((digits + 1) % 256)


def _bad_body_length(delta: int) -> object:
    def garble(frame: bytes) -> bytes:
        n = int(re.search(rb"\x019=(\d+)\x01", frame)[1])  # type: ignore[index]
        return reframe(frame, b"\x019=%d\x01" % n, b"\x019=%d\x01" % (n + delta))

    return garble


def _msg_type_not_third(frame: bytes) -> bytes:
    fields = frame[:-7].split(b"\x01")[:-1]
    body = [f for f in fields[2:] if not f.startswith(b"35=")]
    raw = b"\x01".join([fields[0], b"35=B", fields[1], *body]) + b"\x01"
    return raw + b"10=%03d\x01" % (sum(raw) % 256)


def _body_length_not_second(frame: bytes) -> bytes:
    fields = frame[:-7].split(b"\x01")[:-1]
    raw = b"\x01".join([fields[1], fields[0], *fields[2:]]) + b"\x01"
    return raw + b"10=%03d\x01" % (sum(raw) % 256)


@ROLES
@pytest.mark.parametrize(
    "garble",
    [
        _bad_checksum,
        _bad_body_length(-3),
        _bad_body_length(+5),
        _msg_type_not_third,
        _body_length_not_second,
    ],
    ids=[
        "2_d-checksum",
        "2_j-body-length-short",
        "2_j-body-length-long",
        "2_n-msg-type-not-third",
        "2_n-body-length-not-second",
    ],
)
def test_2_d_j_n_garbled_message_ignored_without_consuming_a_seq(
    role: Role, garble: object
) -> None:
    d = logged_on(role)
    bad = garble(d.frame(NEWS, *news("garbled"), seq=2))  # type: ignore[operator]
    good = d.frame(NEWS, *news("good"), seq=2)
    d.feed(bad + good)
    events = d.events()
    # One or more garbled reports (a frame starting "9=" is junk up to the "8=FIX" inside it).
    garbled = [e for e in events[:-1] if isinstance(e, GarbledMessageIgnored)]
    assert len(garbled) == len(events) - 1
    assert b"".join(e.data for e in garbled) == bad
    assert isinstance(events[-1], AppMessageReceived)
    assert headlines(events) == [b"good"]
    assert d.sent() == []
    assert d.session.next_target_seq == 3
    assert d.session.is_logged_on


# -- 2 e, f, g: PossDupFlag ----------------------------------------------------------------------


@ROLES
def test_2_e_poss_dup_seq_too_low_ignored(role: Role) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("a"))
    d.events()
    d.receive(NEWS, *news("a"), seq=2, header=poss_dup())
    assert d.events() == [DuplicateIgnored(2, NEWS)]
    assert d.sent() == []
    assert d.session.next_target_seq == 3
    assert d.session.is_logged_on


@ROLES
def test_2_e_poss_dup_not_yet_received_is_delivered(role: Role) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("a"), header=poss_dup())
    [event] = d.events()
    assert isinstance(event, AppMessageReceived)
    assert event.poss_dup is True
    assert d.session.next_target_seq == 3


@ROLES
def test_2_f_poss_dup_orig_sending_time_after_sending_time_rejected(role: Role) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("a"), header=poss_dup(T0 + timedelta(seconds=1)))
    [reject] = d.sent()
    assert_reject(reject, 2, R.SENDING_TIME_ACCURACY_PROBLEM, Tag.ORIG_SENDING_TIME, NEWS)
    text = "SendingTime accuracy problem, field=122"
    assert reject.get(Tag.TEXT) == text.encode()
    assert d.events() == [RejectSent(2, R.SENDING_TIME_ACCURACY_PROBLEM, 122, text)]
    assert d.session.next_target_seq == 3  # consumed, not delivered
    assert d.session.is_logged_on


@ROLES
def test_2_g_poss_dup_without_orig_sending_time_rejected(role: Role) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("a"), header=((Tag.POSS_DUP_FLAG, True),))
    [reject] = d.sent()
    assert_reject(reject, 2, R.REQUIRED_TAG_MISSING, Tag.ORIG_SENDING_TIME, NEWS)
    assert reject.get(Tag.TEXT) == b"Required tag missing, field=122"
    assert [type(e) for e in d.events()] == [RejectSent]
    assert d.session.next_target_seq == 3


# -- 2 h, i, k: header problems that end the session --------------------------------------------


@ROLES
def test_2_h_begin_string_mismatch_logs_out_and_disconnects(role: Role) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("a"), begin_string=b"FIX.4.2")
    out = d.sent()
    assert [m.msg_type for m in out] == [MsgType.LOGOUT]
    text = "Incorrect BeginString FIX.4.2"
    assert_logged_out(d, out, text)
    assert d.events() == [LogoutSent(text), Disconnected(text, error=True)]


@ROLES
@pytest.mark.parametrize(
    ("sender", "target", "tag"), [("XX", None, 49), (None, "XX", 56)], ids=["sender", "target"]
)
def test_2_i_comp_id_mismatch_rejects_logs_out_and_disconnects(
    role: Role, sender: str | None, target: str | None, tag: int
) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("a"), sender=sender, target=target)
    out = d.sent()
    assert [m.msg_type for m in out] == [MsgType.REJECT, MsgType.LOGOUT]
    assert_reject(out[0], 2, R.COMP_ID_PROBLEM, tag, NEWS)
    text = f"CompID problem, field={tag}"
    assert_logged_out(d, out, text)
    events = d.events()
    assert events == [
        RejectSent(2, R.COMP_ID_PROBLEM, tag, text),
        LogoutSent(text),
        Disconnected(text, error=True),
    ]
    assert headlines(events) == []
    assert d.session.next_target_seq == 3


@ROLES
@pytest.mark.parametrize("offset", [-120.001, 120.001, -3600.0])
def test_2_k_sending_time_too_far_rejects_logs_out_and_disconnects(
    role: Role, offset: float
) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("a"), sending_time=T0 + timedelta(seconds=offset))
    out = d.sent()
    assert [m.msg_type for m in out] == [MsgType.REJECT, MsgType.LOGOUT]
    assert_reject(out[0], 2, R.SENDING_TIME_ACCURACY_PROBLEM, Tag.SENDING_TIME, NEWS)
    assert_logged_out(d, out, "SendingTime accuracy problem, field=52")
    assert headlines(d.events()) == []
    assert d.session.next_target_seq == 3


@ROLES
@pytest.mark.parametrize("offset", [-120.0, 120.0])
def test_2_k_sending_time_at_max_latency_accepted(role: Role, offset: float) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("a"), sending_time=T0 + timedelta(seconds=offset))
    assert headlines(d.events()) == [b"a"]
    assert d.sent() == []


@ROLES
@pytest.mark.parametrize("value", [b"", b"20261125-25:00:00"], ids=["empty", "malformed"])
def test_2_k_sending_time_unreadable_rejected(role: Role, value: bytes) -> None:
    """A SendingTime that does not parse is rejected by the validator (reason 4 or 6)."""
    d = logged_on(role)
    d.receive(NEWS, *news("a"), sending_time=value)
    [reject] = d.sent()
    reason = R.TAG_SPECIFIED_WITHOUT_A_VALUE if not value else R.INCORRECT_DATA_FORMAT_FOR_VALUE
    assert_reject(reject, 2, reason, Tag.SENDING_TIME, NEWS)
    assert d.session.next_target_seq == 3


# -- 2 l, m: MsgType -----------------------------------------------------------------------------


@ROLES
def test_2_l_invalid_msg_type_rejected(role: Role) -> None:
    d = logged_on(role)
    d.receive("ZZ", (Tag.TEXT, "what"))
    [reject] = d.sent()
    assert_reject(reject, 2, R.INVALID_MSG_TYPE, Tag.MSG_TYPE, "ZZ")
    assert reject.get(Tag.TEXT) == b"Invalid MsgType, field=35"
    assert d.events() == [RejectSent(2, R.INVALID_MSG_TYPE, 35, "Invalid MsgType, field=35")]
    assert d.session.next_target_seq == 3
    assert d.session.is_logged_on


@ROLES
def test_2_m_unsupported_app_msg_type_business_rejected(role: Role) -> None:
    d = logged_on(role, supported_app_msg_types=frozenset({MsgType.NEW_ORDER_SINGLE}))
    d.receive(NEWS, *news("a"))
    [reject] = d.sent()
    assert reject.msg_type == MsgType.BUSINESS_MESSAGE_REJECT
    assert reject.get(Tag.MSG_SEQ_NUM) == b"2"
    assert reject.get(Tag.REF_SEQ_NUM) == b"2"
    assert reject.get(Tag.REF_MSG_TYPE) == b"B"
    assert reject.get(Tag.BUSINESS_REJECT_REASON) == b"3"
    assert reject.get(Tag.TEXT) == b"Unsupported Message Type B"
    assert d.events() == [
        BusinessRejectSent(
            2, NEWS, BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE, "Unsupported Message Type B"
        )
    ]
    assert d.session.next_target_seq == 3
    assert d.session.is_logged_on


@ROLES
def test_2_m_supported_app_msg_type_delivered(role: Role) -> None:
    d = logged_on(role, supported_app_msg_types=frozenset({NEWS}))
    d.receive(NEWS, *news("a"))
    assert headlines(d.events()) == [b"a"]
    assert d.sent() == []


# -- 19: PossResend ------------------------------------------------------------------------------


@ROLES
def test_19_poss_resend_delivered_flagged(role: Role) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news("maybe again"), header=((Tag.POSS_RESEND, True),))
    [event] = d.events()
    assert isinstance(event, AppMessageReceived)
    assert (event.poss_dup, event.poss_resend) == (False, True)
    assert event.message.get(Tag.HEADLINE) == b"maybe again"
    assert d.sent() == []
    assert d.session.next_target_seq == 3
