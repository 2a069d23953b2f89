"""FIX session-layer test cases 12 (initiate Logout) and 13 (receive Logout), FIX 4.4, for
both roles, and how a connection ends otherwise (end of stream, logout before logon)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.core.session_pair import ROLES, T0, DirectSession, SessionPair, settings
from trifix.core.events import (
    AdminMessageReceived,
    AppMessageReceived,
    Disconnected,
    GapFilled,
    GarbledMessageIgnored,
    HeartbeatSent,
    LogoutReceived,
    LogoutSent,
    SequenceResetReceived,
    SequencesReset,
)
from trifix.core.settings import Role
from trifix.core.state import SessionState
from trifix.core.tags import MsgType, Tag

LOGOUT = MsgType.LOGOUT
NEWS_BODY = ((Tag.HEADLINE, "late"), (Tag.NO_LINES_OF_TEXT, 1), (Tag.TEXT, "line"))


def logged_on(role: Role, **options: object) -> DirectSession:
    d = DirectSession(role, **options)
    d.logon()
    return d


def logging_out(role: Role, **options: object) -> DirectSession:
    d = logged_on(role, **options)
    d.session.logout(d.now, "end of day")
    [logout] = d.sent()
    assert logout.msg_type == LOGOUT
    assert logout.get(Tag.TEXT) == b"end of day"
    assert logout.seq_num == 2
    assert d.events() == [LogoutSent("end of day")]
    assert d.session.state is SessionState.LOGOUT_SENT
    return d


# -- 12: we initiate -----------------------------------------------------------------------------


@ROLES
def test_12_a_13_a_logout_initiated_and_answered(role: Role) -> None:
    d = logging_out(role)
    assert d.session.next_deadline() == T0 + timedelta(seconds=2)
    d.receive(LOGOUT)
    assert d.sent() == []  # an answer is not answered
    events = d.events()
    assert [type(e) for e in events] == [AdminMessageReceived, LogoutReceived, Disconnected]
    assert events[1:] == [
        LogoutReceived(None, solicited=True),
        Disconnected("logout completed", error=False),
    ]
    assert d.session.state is SessionState.DISCONNECTED
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (3, 3)
    assert d.session.next_deadline() is None


@ROLES
def test_12_a_reset_on_logout_resets_both_sequences(role: Role) -> None:
    d = logging_out(role, reset_on_logout=True)
    d.stored[2] = b"kept until the reset"
    d.receive(LOGOUT, (Tag.TEXT, "ok"))
    events = d.events()
    assert events[-3:] == [
        LogoutReceived("ok", solicited=True),
        SequencesReset("ResetOnLogout"),
        Disconnected("logout completed", error=False),
    ]
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (1, 1)
    update = d.session.store_update()
    assert update is not None
    assert (update.reset, update.next_sender_seq, update.next_target_seq) == (True, 1, 1)


@ROLES
def test_12_b_logout_timeout_when_unanswered(role: Role) -> None:
    d = logging_out(role, logout_timeout=timedelta(seconds=2))
    d.advance(1.999)
    assert d.session.state is SessionState.LOGOUT_SENT
    assert d.events() == []
    d.advance(0.001)
    assert d.sent() == []
    assert d.events() == [Disconnected("logout timeout: no Logout answer", error=True)]


@ROLES
def test_12_messages_received_while_logging_out_are_still_processed(role: Role) -> None:
    d = logging_out(role)
    d.receive(MsgType.NEWS, *NEWS_BODY)
    d.receive(MsgType.TEST_REQUEST, (Tag.TEST_REQ_ID, "still there?"))
    events = d.events()
    assert [type(e) for e in events] == [AppMessageReceived, AdminMessageReceived, HeartbeatSent]
    [heartbeat] = d.sent()
    assert heartbeat.get(Tag.TEST_REQ_ID) == b"still there?"
    d.receive(LOGOUT)
    assert d.events()[-1] == Disconnected("logout completed", error=False)
    assert d.session.next_target_seq == 5


@ROLES
def test_12_logout_without_text(role: Role) -> None:
    d = logged_on(role)
    d.session.logout(d.now)
    [logout] = d.sent()
    assert logout.msg_type == LOGOUT
    assert Tag.TEXT not in logout
    assert d.events() == [LogoutSent(None)]
    d.session.logout(d.now)  # already logging out: nothing more
    assert d.sent() == []


@ROLES
def test_12_logout_before_logon_completes_just_disconnects(role: Role) -> None:
    d = DirectSession(role)
    d.connect()
    d.sent()
    d.events()
    d.session.logout(d.now)
    assert d.sent() == []
    assert d.events() == [Disconnected("logout before logon completed", error=False)]
    d.session.logout(d.now)  # disconnected: a no-op
    assert d.events() == []


# -- 13: the peer initiates ----------------------------------------------------------------------


@ROLES
@pytest.mark.parametrize(
    ("text", "reason"), [("bye", "peer logged out: bye"), (None, "peer logged out")]
)
def test_13_b_unsolicited_logout_answered_then_disconnect(
    role: Role, text: str | None, reason: str
) -> None:
    d = logged_on(role)
    d.receive(LOGOUT, *(((Tag.TEXT, text),) if text else ()))
    [answer] = d.sent()
    assert answer.msg_type == LOGOUT
    assert answer.seq_num == 2
    assert Tag.TEXT not in answer
    events = d.events()
    assert events[1:] == [
        LogoutReceived(text, solicited=False),
        LogoutSent(None),
        Disconnected(reason, error=False),
    ]
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (3, 3)


@ROLES
def test_13_b_unsolicited_logout_with_reset_on_logout(role: Role) -> None:
    d = logged_on(role, reset_on_logout=True)
    d.receive(LOGOUT)
    assert [m.msg_type for m in d.sent()] == [LOGOUT]
    assert SequencesReset("ResetOnLogout") in d.events()
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (1, 1)


@ROLES
def test_13_logout_above_a_gap_is_acted_on_at_once(role: Role) -> None:
    d = logged_on(role)
    d.receive(LOGOUT, seq=7)
    assert [m.msg_type for m in d.sent()] == [LOGOUT]
    assert d.events()[-1] == Disconnected("peer logged out", error=False)


@ROLES
def test_13_logout_after_a_filled_gap_processed_in_order(role: Role) -> None:
    d = logged_on(role)
    d.receive(MsgType.NEWS, *NEWS_BODY, seq=3)  # gap at 2: stashed, ResendRequest
    assert [m.msg_type for m in d.sent()] == [MsgType.RESEND_REQUEST]
    d.events()
    d.receive(
        MsgType.SEQUENCE_RESET,
        (Tag.GAP_FILL_FLAG, True),
        (Tag.NEW_SEQ_NO, 3),
        seq=2,
        header=((Tag.POSS_DUP_FLAG, True), (Tag.ORIG_SENDING_TIME, T0)),
    )
    d.receive(LOGOUT, seq=4)
    assert [type(e) for e in d.events()] == [
        AdminMessageReceived,  # the gap fill
        SequenceResetReceived,
        AppMessageReceived,  # the stashed News, now in sequence
        GapFilled,
        AdminMessageReceived,  # the Logout
        LogoutReceived,
        LogoutSent,
        Disconnected,
    ]
    assert [m.msg_type for m in d.sent()] == [LOGOUT]
    assert d.session.next_target_seq == 5


# -- the connection ending otherwise --------------------------------------------------------------


@ROLES
def test_end_of_stream_while_logged_on_is_an_error(role: Role) -> None:
    d = logged_on(role)
    d.feed(d.frame(MsgType.HEARTBEAT)[:20])  # half a frame, then the end
    d.feed(b"")
    events = d.events()
    assert events == [
        GarbledMessageIgnored("connection ended inside a frame", events[0].data),  # type: ignore[attr-defined]
        Disconnected("peer closed the connection", error=True),
    ]
    assert d.session.state is SessionState.DISCONNECTED
    d.session.connection_lost(d.now)  # again: a no-op
    assert d.events() == []


@ROLES
def test_end_of_stream_after_our_logout_is_not_an_error(role: Role) -> None:
    d = logging_out(role)
    d.feed(b"")
    assert d.events() == [Disconnected("peer closed the connection", error=False)]


def test_12_13_logout_over_a_pair() -> None:
    pair = SessionPair(
        settings(Role.INITIATOR, reset_on_logout=True),
        settings(Role.ACCEPTOR, reset_on_logout=True),
    )
    pair.logon()
    pair.initiator.session.logout(pair.now, "done")
    pair.pump()
    assert pair.disconnected()
    assert pair.acceptor.events_of(LogoutReceived) == [LogoutReceived("done", solicited=False)]
    assert pair.initiator.events_of(LogoutReceived) == [LogoutReceived(None, solicited=True)]
    assert SessionPair.disconnect_reasons(pair.initiator) == ["logout completed"]
    assert SessionPair.disconnect_reasons(pair.acceptor) == ["peer logged out: done"]
    for side, name in ((pair.initiator, "GW-LP"), (pair.acceptor, "LP-GW")):
        seqs = side.store.sequences(name)
        assert (seqs.next_sender_seq, seqs.next_target_seq) == (1, 1)
    pair.logon()  # a new session period starts at 1
    assert pair.initiator.session.next_target_seq == 2


@ROLES
def test_12_comp_id_problem_while_logging_out_ends_at_once(role: Role) -> None:
    d = logging_out(role)
    d.receive(MsgType.HEARTBEAT, sender="XX")
    out = d.sent()
    assert [m.msg_type for m in out] == [MsgType.REJECT, LOGOUT]
    assert out[1].get(Tag.TEXT) == b"CompID problem, field=49"
    assert d.events()[-1] == Disconnected("CompID problem, field=49", error=True)


@ROLES
def test_12_logon_while_logging_out_refused(role: Role) -> None:
    d = logging_out(role)
    d.receive(MsgType.LOGON, (Tag.ENCRYPT_METHOD, 0), (Tag.HEART_BT_INT, 30))
    [logout] = d.sent()
    assert logout.get(Tag.TEXT) == b"Logon received while already logged on"
    assert d.session.state is SessionState.DISCONNECTED
