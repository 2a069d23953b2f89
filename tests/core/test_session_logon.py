"""FIX session-layer test cases 1S (initiator logon) and 1B (acceptor logon), FIX 4.4.

Each test is named after its case in "FIX Session Layer Test Cases and Expected Behaviors";
tests that apply to both roles run once as the initiator (GW) and once as the acceptor (LP),
with the test writing the counterparty's frames by hand.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.core.session_pair import ROLES, T0, DirectSession, SessionPair, settings
from trifix.core.events import (
    AdminMessageReceived,
    Disconnected,
    GapDetected,
    GapFilled,
    LoggedOn,
    LogonSent,
    LogoutReceived,
    LogoutSent,
    SequenceResetReceived,
    SequencesReset,
)
from trifix.core.message import Message
from trifix.core.settings import Role
from trifix.core.state import SessionState
from trifix.core.tags import MsgType, Tag

LOGON = MsgType.LOGON
HB_30 = ((Tag.ENCRYPT_METHOD, 0), (Tag.HEART_BT_INT, 30))


def connected(role: Role, **options: object) -> DirectSession:
    """A session whose transport is up; an initiator's own Logon is already taken out."""
    d = DirectSession(role, **options)
    d.connect()
    d.sent()
    d.events()
    return d


def assert_refused(d: DirectSession, text: str) -> None:
    """The Logon was answered with Logout(58=text) and the transport closed."""
    out = d.sent()
    assert [m.msg_type for m in out] == [MsgType.LOGOUT]
    assert out[0].get(Tag.TEXT) == text.encode()
    events = d.events()
    assert LogoutSent(text) in events
    assert events[-1] == Disconnected(text, error=True)
    assert d.session.state is SessionState.DISCONNECTED
    assert not d.session.is_logged_on


def assert_dropped(d: DirectSession, reason: str) -> None:
    """The transport closed without a word to the peer."""
    assert d.sent() == []
    assert d.events() == [Disconnected(reason, error=True)]
    assert d.session.state is SessionState.DISCONNECTED


# -- 1S a / 1B a: valid Logon ------------------------------------------------------------------


def test_1S_a_valid_logon() -> None:
    d = DirectSession(Role.INITIATOR, heartbeat_interval=30)
    d.connect()
    [logon] = d.sent()
    assert logon.msg_type == LOGON
    assert logon.get(Tag.SENDER_COMP_ID) == b"GW"
    assert logon.get(Tag.TARGET_COMP_ID) == b"LP"
    assert logon.get(Tag.MSG_SEQ_NUM) == b"1"
    assert logon.get(Tag.SENDING_TIME) == b"20261125-09:00:00.000"
    assert logon.get(Tag.ENCRYPT_METHOD) == b"0"
    assert logon.get(Tag.HEART_BT_INT) == b"30"
    assert Tag.RESET_SEQ_NUM_FLAG not in logon
    assert d.events() == [LogonSent(1, False)]
    assert d.session.state is SessionState.LOGON_SENT

    d.receive(LOGON, (Tag.ENCRYPT_METHOD, 0), (Tag.HEART_BT_INT, 30))
    events = d.events()
    assert [type(e) for e in events] == [AdminMessageReceived, LoggedOn]
    assert events[1] == LoggedOn(30, False)
    assert d.sent() == []  # the initiator does not answer the answer
    assert d.session.is_logged_on
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (2, 2)


def test_1B_a_valid_logon_answered_with_the_initiators_heartbtint() -> None:
    d = DirectSession(Role.ACCEPTOR, heartbeat_interval=30)
    d.connect()
    assert d.sent() == []
    assert d.session.state is SessionState.AWAITING_LOGON

    d.receive(LOGON, (Tag.ENCRYPT_METHOD, 0), (Tag.HEART_BT_INT, 45))
    [answer] = d.sent()
    assert answer.msg_type == LOGON
    assert answer.get(Tag.SENDER_COMP_ID) == b"LP"
    assert answer.get(Tag.TARGET_COMP_ID) == b"GW"
    assert answer.get(Tag.MSG_SEQ_NUM) == b"1"
    assert answer.get(Tag.HEART_BT_INT) == b"45"  # the initiator's, not our setting of 30
    assert Tag.RESET_SEQ_NUM_FLAG not in answer
    events = d.events()
    assert [type(e) for e in events] == [AdminMessageReceived, LogonSent, LoggedOn]
    assert events[1:] == [LogonSent(1, False), LoggedOn(45, False)]
    assert d.session.heartbeat_interval == 45
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (2, 2)
    # ...and it is the interval the timers run on.
    assert d.session.next_deadline() == T0 + timedelta(seconds=45)


# -- 1S b / 1B b: Logon with MsgSeqNum too high ----------------------------------------------


@ROLES
def test_1S_b_1B_b_logon_seq_too_high_accepted_then_resend_request(role: Role) -> None:
    d = connected(role)
    d.receive(LOGON, *HB_30, seq=5)
    out = d.sent()
    if role is Role.ACCEPTOR:
        assert [m.msg_type for m in out] == [LOGON, MsgType.RESEND_REQUEST]
        request = out[1]
    else:
        [request] = out
    assert request.get(Tag.MSG_SEQ_NUM) == b"2"
    assert request.get(Tag.BEGIN_SEQ_NO) == b"1"
    assert request.get(Tag.END_SEQ_NO) == b"0"
    events = d.events()
    assert LoggedOn(30, False) in events
    assert events[-1] == GapDetected(1, 5, 1, 0)
    assert d.session.is_logged_on
    assert d.session.awaiting_resend
    assert d.session.next_target_seq == 1

    # The peer fills 1..4; the Logon (5) was processed already and only its number is left.
    d.receive(
        MsgType.SEQUENCE_RESET,
        (Tag.GAP_FILL_FLAG, True),
        (Tag.NEW_SEQ_NO, 5),
        seq=1,
        header=((Tag.POSS_DUP_FLAG, True), (Tag.ORIG_SENDING_TIME, T0)),
    )
    assert d.sent() == []
    events = d.events()
    assert SequenceResetReceived(5, True) in events
    assert events[-1] == GapFilled(6)
    assert d.session.next_target_seq == 6
    assert not d.session.awaiting_resend


@ROLES
def test_1S_b_1B_b_logon_seq_too_high_with_chunked_resend_requests(role: Role) -> None:
    d = connected(role, resend_request_chunk_size=2)
    d.receive(LOGON, *HB_30, seq=5)
    request = d.sent()[-1]
    assert (request.get(Tag.BEGIN_SEQ_NO), request.get(Tag.END_SEQ_NO)) == (b"1", b"2")
    gap_fill = ((Tag.POSS_DUP_FLAG, True), (Tag.ORIG_SENDING_TIME, T0))
    d.receive(
        MsgType.SEQUENCE_RESET,
        (Tag.GAP_FILL_FLAG, True),
        (Tag.NEW_SEQ_NO, 3),
        seq=1,
        header=gap_fill,
    )
    [request] = d.sent()
    assert (request.get(Tag.BEGIN_SEQ_NO), request.get(Tag.END_SEQ_NO)) == (b"3", b"4")
    d.receive(
        MsgType.SEQUENCE_RESET,
        (Tag.GAP_FILL_FLAG, True),
        (Tag.NEW_SEQ_NO, 5),
        seq=3,
        header=gap_fill,
    )
    assert d.sent() == []  # no request for an empty range: the Logon at 5 is done
    assert d.events()[-1] == GapFilled(6)
    assert d.session.next_target_seq == 6


# -- 1S c / 1B d: first message not a Logon -----------------------------------------------------


@ROLES
def test_1S_c_1B_d_first_message_not_a_logon_disconnects(role: Role) -> None:
    d = connected(role)
    d.receive(MsgType.HEARTBEAT)
    assert_dropped(d, "first message was not a Logon (35=0)")
    assert d.session.next_target_seq == 1
    d.receive(LOGON, *HB_30)  # late bytes after the decision are ignored
    assert d.sent() == []
    assert d.events() == []


def test_1S_logon_answered_with_logout_disconnects() -> None:
    d = connected(Role.INITIATOR)
    d.receive(MsgType.LOGOUT, (Tag.TEXT, "not today"))
    assert d.sent() == []
    assert d.events() == [
        LogoutReceived("not today", solicited=False),
        Disconnected("logon refused: not today", error=True),
    ]


def test_1B_d_logout_instead_of_logon_disconnects() -> None:
    d = connected(Role.ACCEPTOR)
    d.receive(MsgType.LOGOUT)
    assert_dropped(d, "first message was not a Logon (35=5)")


# -- 1B c: invalid Logon -------------------------------------------------------------------------


@ROLES
def test_1B_c_logon_with_wrong_begin_string_disconnects(role: Role) -> None:
    d = connected(role)
    d.receive(LOGON, *HB_30, begin_string=b"FIX.4.2")
    assert_dropped(d, "Incorrect BeginString FIX.4.2")
    assert d.session.next_target_seq == 1


@ROLES
@pytest.mark.parametrize(
    ("sender", "target", "tag"), [("XX", None, 49), (None, "XX", 56)], ids=["sender", "target"]
)
def test_1B_c_logon_with_wrong_comp_id_refused(
    role: Role, sender: str | None, target: str | None, tag: int
) -> None:
    d = connected(role)
    d.receive(LOGON, *HB_30, sender=sender, target=target)
    assert_refused(d, f"CompID problem, field={tag}")
    assert d.session.next_target_seq == 1


@ROLES
@pytest.mark.parametrize("offset", [-121, 121])
def test_1B_c_logon_with_bad_sending_time_refused(role: Role, offset: int) -> None:
    d = connected(role)
    d.receive(LOGON, *HB_30, sending_time=T0 + timedelta(seconds=offset))
    assert_refused(d, "SendingTime accuracy problem, field=52")


@ROLES
def test_1B_c_logon_without_heartbtint_refused(role: Role) -> None:
    d = connected(role)
    d.receive(LOGON, (Tag.ENCRYPT_METHOD, 0))
    assert_refused(d, "Invalid Logon: Required tag missing, field=108")
    assert d.session.next_target_seq == 1


@ROLES
def test_1B_c_logon_with_seq_too_low_refused(role: Role) -> None:
    d = connected(role, next_target_seq=5)
    d.receive(LOGON, *HB_30, seq=3)
    assert_refused(d, "MsgSeqNum too low, expecting 5 but received 3")
    assert d.session.next_target_seq == 5


def test_1B_c_garbled_logon_ignored_then_valid_logon_accepted() -> None:
    d = connected(Role.ACCEPTOR)
    bad = bytearray(d.frame(LOGON, *HB_30, seq=1))
    bad[-2] = ord("0") if bad[-2] != ord("0") else ord("1")  # wrong CheckSum
    d.feed(bytes(bad))
    assert d.sent() == []
    assert d.session.state is SessionState.AWAITING_LOGON
    d.receive(LOGON, *HB_30, seq=1)
    assert [m.msg_type for m in d.sent()] == [LOGON]
    assert d.session.is_logged_on


# -- ResetSeqNumFlag (141=Y) on Logon ------------------------------------------------------------


def test_1S_reset_on_logon_sends_141_and_resets_both_sequences() -> None:
    d = DirectSession(Role.INITIATOR, reset_on_logon=True, next_sender_seq=10, next_target_seq=7)
    d.connect()
    [logon] = d.sent()
    assert logon.get(Tag.MSG_SEQ_NUM) == b"1"
    assert logon.get(Tag.RESET_SEQ_NUM_FLAG) == b"Y"
    assert d.events() == [SequencesReset("ResetOnLogon"), LogonSent(1, True)]
    d.receive(LOGON, *HB_30, (Tag.RESET_SEQ_NUM_FLAG, True), seq=1)
    assert d.sent() == []
    assert LoggedOn(30, True) in d.events()
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (2, 2)


def test_1S_reset_on_logon_answer_without_141_refused() -> None:
    d = DirectSession(Role.INITIATOR, reset_on_logon=True, next_sender_seq=10)
    d.connect()
    d.sent()
    d.events()
    d.receive(LOGON, *HB_30, seq=1)
    assert_refused(d, "Logon answer lacks ResetSeqNumFlag=Y")


def test_1S_unrequested_141_on_the_logon_answer_resets_both_sequences() -> None:
    """An acceptor that resets on its own sends 141=Y on its answer and restarts all its
    numbers once it is sent (QuickFIX does so in sendRaw): the Logon answer is its 1 and it
    expects our next message as 1 too."""
    d = DirectSession(Role.INITIATOR, next_sender_seq=10, next_target_seq=7)
    d.connect()
    d.sent()
    d.events()
    d.receive(LOGON, *HB_30, (Tag.RESET_SEQ_NUM_FLAG, True), seq=1)
    assert d.sent() == []
    events = d.events()
    assert events[0] == SequencesReset("peer reset sequence numbers on Logon")
    assert events[-1] == LoggedOn(30, True)
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (1, 2)


def test_1B_logon_with_141_resets_and_is_answered_with_141() -> None:
    d = DirectSession(Role.ACCEPTOR, next_sender_seq=10, next_target_seq=7)
    d.sent()
    d.stored[9] = b"an old message"
    d.connect()
    d.receive(LOGON, *HB_30, (Tag.RESET_SEQ_NUM_FLAG, True), seq=1)
    [answer] = d.sent()
    assert answer.get(Tag.MSG_SEQ_NUM) == b"1"
    assert answer.get(Tag.RESET_SEQ_NUM_FLAG) == b"Y"
    events = d.events()
    assert SequencesReset("ResetSeqNumFlag on Logon") in events
    assert events[-1] == LoggedOn(30, True)
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (2, 2)
    assert d.stored == {}  # the store was told to reset


def test_1B_logon_with_141_and_seq_not_1_refused() -> None:
    d = connected(Role.ACCEPTOR, next_target_seq=7)
    d.receive(LOGON, *HB_30, (Tag.RESET_SEQ_NUM_FLAG, True), seq=3)
    assert_refused(d, "ResetSeqNumFlag=Y with MsgSeqNum 3, expected 1")


def test_reset_on_logon_both_sides_over_a_pair() -> None:
    pair = SessionPair(
        settings(Role.INITIATOR, reset_on_logon=True), settings(Role.ACCEPTOR, reset_on_logon=True)
    )
    pair.logon()
    news = Message.new(MsgType.NEWS, (Tag.HEADLINE, "x"))
    news.add_group(Tag.NO_LINES_OF_TEXT, [[(Tag.TEXT, "line")]])
    pair.send(pair.initiator, news)
    pair.initiator.session.logout(pair.now)
    pair.pump()
    assert pair.disconnected()
    pair.connect()
    for side in (pair.initiator, pair.acceptor):
        assert side.session.is_logged_on
        assert (side.session.next_sender_seq, side.session.next_target_seq) == (2, 2)
    assert pair.acceptor.store.sequences("LP-GW").next_target_seq == 2


def test_1B_acceptor_reset_on_logon_with_a_plain_initiator() -> None:
    """ResetOnLogon on the acceptor alone resets its own numbers; its answer mirrors the
    initiator's Logon (no 141=Y the initiator did not ask for, as QuickFIX does)."""
    pair = SessionPair(acceptor=settings(Role.ACCEPTOR, reset_on_logon=True))
    pair.logon()
    [answer] = list(map(Message.from_frame, pair.acceptor.sent_frames))
    assert Tag.RESET_SEQ_NUM_FLAG not in answer
    news = Message.new(MsgType.NEWS, (Tag.HEADLINE, "x"))
    news.add_group(Tag.NO_LINES_OF_TEXT, [[(Tag.TEXT, "line")]])
    pair.send(pair.initiator, news)
    assert [m.get(Tag.HEADLINE) for m in pair.acceptor.delivered] == [b"x"]
    assert pair.initiator.session.is_logged_on
    assert pair.acceptor.session.is_logged_on


# -- logon timeout -------------------------------------------------------------------------------


@ROLES
def test_1S_1B_logon_timeout_disconnects(role: Role) -> None:
    d = connected(role, logon_timeout=timedelta(seconds=10))
    assert d.session.next_deadline() == T0 + timedelta(seconds=10)
    d.advance(9.999)
    assert d.session.state is not SessionState.DISCONNECTED
    assert d.events() == []
    d.advance(0.001)
    assert_dropped(d, "logon timeout: no Logon received")
    assert d.session.next_deadline() is None


# -- Username / Password -------------------------------------------------------------------------


def test_1S_logon_carries_username_and_password() -> None:
    d = DirectSession(Role.INITIATOR, username="gw-user", password="s3cret")
    d.connect()
    [logon] = d.sent()
    assert logon.get(Tag.USERNAME) == b"gw-user"
    assert logon.get(Tag.PASSWORD) == b"s3cret"


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        (((Tag.USERNAME, "gw-user"), (Tag.PASSWORD, "s3cret")), True),
        (((Tag.USERNAME, "gw-user"), (Tag.PASSWORD, "wrong")), False),
        (((Tag.USERNAME, "other"), (Tag.PASSWORD, "s3cret")), False),
        (((Tag.USERNAME, "gw-user"),), False),
        ((), False),
    ],
    ids=["valid", "wrong-password", "wrong-user", "no-password", "no-credentials"],
)
def test_1B_username_and_password_checked(
    body: tuple[tuple[int, object], ...], accepted: bool
) -> None:
    d = connected(Role.ACCEPTOR, username="gw-user", password="s3cret")
    d.receive(LOGON, *HB_30, *body)
    if accepted:
        [answer] = d.sent()
        assert answer.msg_type == LOGON
        assert Tag.PASSWORD not in answer  # the acceptor does not echo credentials
        assert d.session.is_logged_on
    else:
        assert_refused(d, "Invalid username or password")


def test_1B_credentials_end_to_end_over_a_pair() -> None:
    creds = {"username": "gw-user", "password": "s3cret"}
    pair = SessionPair(settings(Role.INITIATOR, **creds), settings(Role.ACCEPTOR, **creds))
    pair.logon()
    wrong = SessionPair(
        settings(Role.INITIATOR, username="gw-user", password="guess"),
        settings(Role.ACCEPTOR, **creds),
    )
    wrong.connect()
    assert wrong.disconnected()
    assert SessionPair.disconnect_reasons(wrong.acceptor) == ["Invalid username or password"]
    assert wrong.initiator.events_of(LogoutReceived) == [
        LogoutReceived("Invalid username or password", solicited=False)
    ]
