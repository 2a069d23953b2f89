"""FIX session-layer test cases 10 (SequenceReset-GapFill received) and 11 (SequenceReset-Reset
received), FIX 4.4, for both roles. The session is logged on and expects MsgSeqNum 2."""

from __future__ import annotations

import pytest

from tests.core.session_pair import ROLES, T0, DirectSession
from tests.core.session_pair import news_body as news
from trifix.core.events import (
    AdminMessageReceived,
    AppMessageReceived,
    Disconnected,
    DuplicateIgnored,
    Event,
    GapDetected,
    GapFilled,
    LogoutSent,
    RejectSent,
    SequenceResetReceived,
)
from trifix.core.settings import Role
from trifix.core.state import SessionState
from trifix.core.tags import MsgType, SessionRejectReason, Tag

RESET = MsgType.SEQUENCE_RESET
POSS_DUP = ((Tag.POSS_DUP_FLAG, True), (Tag.ORIG_SENDING_TIME, T0))
LOWER_TEXT = (
    "Value is incorrect (out of range) for this tag, field=36 "
    "(attempt to lower sequence number, invalid value NewSeqNo={})"
)


def logged_on(role: Role) -> DirectSession:
    d = DirectSession(role)
    d.logon()
    return d


def expecting(role: Role, seq: int) -> DirectSession:
    """Logged on, with Heartbeats from the peer up to `seq` - 1 processed."""
    d = logged_on(role)
    for _ in range(2, seq):
        d.receive(MsgType.HEARTBEAT)
    d.events()
    assert d.session.next_target_seq == seq
    return d


def gap_fill(d: DirectSession, seq: int, new_seq: int, *, poss_dup: bool = True) -> None:
    header = POSS_DUP if poss_dup else ()
    d.receive(RESET, (Tag.GAP_FILL_FLAG, True), (Tag.NEW_SEQ_NO, new_seq), seq=seq, header=header)


def assert_lowering_rejected(d: DirectSession, ref_seq: int, new_seq: int) -> None:
    [reject] = d.sent()
    assert reject.msg_type == MsgType.REJECT
    assert reject.get(Tag.REF_SEQ_NUM) == b"%d" % ref_seq
    assert reject.get(Tag.REF_MSG_TYPE) == b"4"
    assert reject.get(Tag.REF_TAG_ID) == b"36"
    assert reject.get(Tag.SESSION_REJECT_REASON) == b"5"
    text = LOWER_TEXT.format(new_seq)
    assert reject.get(Tag.TEXT) == text.encode()
    assert d.events() == [RejectSent(ref_seq, SessionRejectReason.VALUE_IS_INCORRECT, 36, text)]
    assert d.session.is_logged_on


def kinds(events: list[Event]) -> list[type[Event]]:
    return [type(e) for e in events]


def delivered(events: list[Event]) -> list[bytes | None]:
    return [e.message.get(Tag.HEADLINE) for e in events if isinstance(e, AppMessageReceived)]


# -- 10: SequenceReset-GapFill -------------------------------------------------------------------


@ROLES
@pytest.mark.parametrize("poss_dup", [True, False])
def test_10_b_gap_fill_moves_the_expected_seq_forward(role: Role, poss_dup: bool) -> None:
    d = logged_on(role)
    gap_fill(d, 2, 5, poss_dup=poss_dup)
    events = d.events()
    assert kinds(events) == [AdminMessageReceived, SequenceResetReceived]
    assert events[1] == SequenceResetReceived(5, True)
    assert d.sent() == []
    assert d.session.next_target_seq == 5
    d.receive(MsgType.HEARTBEAT, seq=5)
    assert d.session.next_target_seq == 6


@ROLES
def test_10_gap_fill_new_seq_equal_to_its_own_seq_is_accepted(role: Role) -> None:
    d = logged_on(role)
    gap_fill(d, 2, 2)
    assert d.events()[-1] == SequenceResetReceived(3, True)  # consumes its own number
    assert d.sent() == []  # not rejected
    assert d.session.next_target_seq == 3


@ROLES
@pytest.mark.parametrize("new_seq", [3, 4])
def test_10_e_gap_fill_lowering_the_seq_rejected(role: Role, new_seq: int) -> None:
    d = expecting(role, 5)
    gap_fill(d, 5, new_seq)
    assert_lowering_rejected(d, 5, new_seq)
    assert d.session.next_target_seq == 6  # the Reject consumes its number


@ROLES
def test_10_a_gap_fill_seq_too_high_stashed_until_the_gap_is_filled(role: Role) -> None:
    d = logged_on(role)
    gap_fill(d, 4, 10)
    [request] = d.sent()
    assert request.msg_type == MsgType.RESEND_REQUEST
    assert (request.get(Tag.BEGIN_SEQ_NO), request.get(Tag.END_SEQ_NO)) == (b"2", b"0")
    assert d.events() == [GapDetected(2, 4, 2, 0)]
    assert d.session.next_target_seq == 2
    d.receive(MsgType.NEWS, *news("2"), seq=2, header=POSS_DUP)
    d.receive(MsgType.NEWS, *news("3"), seq=3, header=POSS_DUP)
    events = d.events()
    assert delivered(events) == [b"2", b"3"]
    assert SequenceResetReceived(10, True) in events
    assert events[-1] == GapFilled(10)
    assert d.session.next_target_seq == 10
    assert d.sent() == []


@ROLES
def test_10_c_gap_fill_seq_too_low_with_poss_dup_ignored(role: Role) -> None:
    d = expecting(role, 5)
    gap_fill(d, 3, 4)
    assert d.events() == [DuplicateIgnored(3, RESET)]
    assert d.sent() == []
    assert d.session.next_target_seq == 5


@ROLES
def test_10_d_gap_fill_seq_too_low_without_poss_dup_logs_out(role: Role) -> None:
    d = expecting(role, 5)
    gap_fill(d, 3, 9, poss_dup=False)
    text = "MsgSeqNum too low, expecting 5 but received 3"
    [logout] = d.sent()
    assert logout.msg_type == MsgType.LOGOUT
    assert logout.get(Tag.TEXT) == text.encode()
    assert d.events() == [LogoutSent(text), Disconnected(text, error=True)]
    assert d.session.state is SessionState.DISCONNECTED


# -- 11: SequenceReset-Reset ---------------------------------------------------------------------


@ROLES
@pytest.mark.parametrize("flag", [(), ((Tag.GAP_FILL_FLAG, False),)], ids=["123-absent", "123=N"])
@pytest.mark.parametrize("seq", [1, 2, 99], ids=["seq-too-low", "seq-expected", "seq-too-high"])
def test_11_a_reset_moves_forward_whatever_its_msg_seq_num(
    role: Role, flag: tuple[tuple[int, object], ...], seq: int
) -> None:
    d = logged_on(role)
    d.receive(RESET, *flag, (Tag.NEW_SEQ_NO, 20), seq=seq)
    events = d.events()
    assert kinds(events) == [AdminMessageReceived, SequenceResetReceived]
    assert events[1] == SequenceResetReceived(20, False)
    assert d.sent() == []  # no Logout for "too low", no ResendRequest for "too high"
    assert d.session.next_target_seq == 20
    assert d.session.is_logged_on


@ROLES
def test_11_b_reset_to_the_expected_seq_accepted(role: Role) -> None:
    d = expecting(role, 5)
    d.receive(RESET, (Tag.NEW_SEQ_NO, 5), seq=5)
    assert d.events()[-1] == SequenceResetReceived(5, False)
    assert d.sent() == []
    assert d.session.next_target_seq == 5


@ROLES
def test_11_c_reset_lowering_the_seq_rejected(role: Role) -> None:
    d = expecting(role, 5)
    d.receive(RESET, (Tag.NEW_SEQ_NO, 3), seq=9)
    assert_lowering_rejected(d, 9, 3)
    assert d.session.next_target_seq == 5


@ROLES
def test_11_reset_past_an_outstanding_gap_closes_it(role: Role) -> None:
    d = logged_on(role)
    d.receive(MsgType.NEWS, *news("5"), seq=5)
    d.sent()
    d.events()
    assert d.session.awaiting_resend
    d.receive(RESET, (Tag.NEW_SEQ_NO, 5), seq=6)
    events = d.events()
    assert delivered(events) == [b"5"]  # the stashed message is now in sequence
    assert events[-1] == GapFilled(6)
    assert not d.session.awaiting_resend
    assert d.session.next_target_seq == 6


@ROLES
def test_11_reset_received_with_poss_dup_and_no_orig_sending_time_still_applies(
    role: Role,
) -> None:
    """OrigSendingTime is not asked of a SequenceReset (as QuickFIX's doPossDup)."""
    d = logged_on(role)
    d.receive(RESET, (Tag.NEW_SEQ_NO, 7), header=((Tag.POSS_DUP_FLAG, True),))
    assert d.events()[-1] == SequenceResetReceived(7, False)
    assert d.sent() == []
