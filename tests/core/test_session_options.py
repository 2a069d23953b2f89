"""Session options (QuickFIX names in brackets) and the Session API around them.

ResetOnDisconnect, EnableLastMsgSeqNumProcessed, EnableNextExpectedMsgSeqNum, CheckCompID,
CheckLatency, refresh (RefreshOnLogon), reset_sequences, PersistMessages, validation off,
max_stashed_messages, TimeStampPrecision; and a Logon inside an active session.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.core.session_pair import ROLES, T0, DirectSession, SessionPair, news_body, settings
from tests.core.session_pair import news_message as news
from trifix.core.errors import LocalProtocolError
from trifix.core.events import (
    AppMessageReceived,
    Disconnected,
    DuplicateIgnored,
    Event,
    GapFilled,
    LoggedOn,
    LogoutSent,
    ResendRequested,
    SequencesReset,
)
from trifix.core.message import Message
from trifix.core.session import Session
from trifix.core.settings import Role
from trifix.core.state import SessionState
from trifix.core.tags import MsgType, Tag

NEWS = MsgType.NEWS
LOGON_BODY = ((Tag.ENCRYPT_METHOD, 0), (Tag.HEART_BT_INT, 30))


def headlines(events: list[Event]) -> list[bytes | None]:
    return [e.message.get(Tag.HEADLINE) for e in events if isinstance(e, AppMessageReceived)]


def logged_on(role: Role, **options: object) -> DirectSession:
    d = DirectSession(role, **options)
    d.logon()
    return d


# -- ResetOnDisconnect ---------------------------------------------------------------------------


def test_reset_on_disconnect() -> None:
    pair = SessionPair(
        settings(Role.INITIATOR, reset_on_disconnect=True),
        settings(Role.ACCEPTOR, reset_on_disconnect=True),
    )
    pair.logon()
    pair.send(pair.initiator, news("x"))
    pair.disconnect()
    for side, name in ((pair.initiator, "GW-LP"), (pair.acceptor, "LP-GW")):
        assert SequencesReset("ResetOnDisconnect") in side.events
        assert (side.session.next_sender_seq, side.session.next_target_seq) == (1, 1)
        seqs = side.store.sequences(name)
        assert (seqs.next_sender_seq, seqs.next_target_seq) == (1, 1)
        assert list(side.store.get_range(name, 1, 0)) == []
    pair.logon()
    assert Message.from_frame(pair.initiator.sent_frames[-1]).seq_num == 1


def test_no_reset_on_disconnect_by_default() -> None:
    pair = SessionPair()
    pair.logon()
    pair.send(pair.initiator, news("x"))
    pair.disconnect()
    assert (pair.initiator.session.next_sender_seq, pair.acceptor.session.next_target_seq) == (3, 3)
    assert not pair.initiator.events_of(SequencesReset)


# -- EnableLastMsgSeqNumProcessed ----------------------------------------------------------------


def test_last_msg_seq_num_processed_on_every_message_direct() -> None:
    d = DirectSession(Role.ACCEPTOR, enable_last_msg_seq_num_processed=True)
    d.connect()
    d.receive(MsgType.LOGON, *LOGON_BODY)
    [answer] = d.sent()
    assert answer.get(Tag.LAST_MSG_SEQ_NUM_PROCESSED) == b"1"  # the Logon it answers
    d.receive(MsgType.HEARTBEAT)
    d.receive(MsgType.HEARTBEAT)
    d.session.send(news("a"), d.now)
    d.receive(MsgType.TEST_REQUEST, (Tag.TEST_REQ_ID, "t"))
    d.receive(MsgType.NEWS, *news_body("gap"), seq=9)
    out = d.sent()
    assert [(m.msg_type, m.get(Tag.LAST_MSG_SEQ_NUM_PROCESSED)) for m in out] == [
        (NEWS, b"3"),
        (MsgType.HEARTBEAT, b"4"),
        (MsgType.RESEND_REQUEST, b"4"),
    ]
    d.receive(MsgType.RESEND_REQUEST, (Tag.BEGIN_SEQ_NO, 1), (Tag.END_SEQ_NO, 0), seq=10)
    replayed = d.replay(1, 4)
    assert [m.msg_type for m in replayed] == [MsgType.SEQUENCE_RESET, NEWS, MsgType.SEQUENCE_RESET]
    assert replayed[0].get(Tag.LAST_MSG_SEQ_NUM_PROCESSED) == b"4"  # gap fills: now
    assert replayed[1].get(Tag.LAST_MSG_SEQ_NUM_PROCESSED) == b"3"  # resent: as first sent


def test_last_msg_seq_num_processed_over_a_pair() -> None:
    pair = SessionPair(
        settings(Role.INITIATOR, enable_last_msg_seq_num_processed=True),
        settings(Role.ACCEPTOR, enable_last_msg_seq_num_processed=True),
    )
    pair.logon()
    for headline in "abc":
        pair.send(pair.initiator, news(headline))
        pair.send(pair.acceptor, news(headline))
    pair.advance(31)
    pair.initiator.session.logout(pair.now)
    pair.pump()
    for side in (pair.initiator, pair.acceptor):
        sent = [Message.from_frame(f) for f in side.sent_frames]
        processed = [m.get_int(Tag.LAST_MSG_SEQ_NUM_PROCESSED) for m in sent]
        assert processed == sorted(processed)
        assert processed[-1] <= side.session.next_target_seq - 1
    initiator = [Message.from_frame(f) for f in pair.initiator.sent_frames]
    assert [m.get_int(Tag.LAST_MSG_SEQ_NUM_PROCESSED) for m in initiator[:4]] == [0, 1, 2, 3]


@ROLES
def test_last_msg_seq_num_processed_absent_by_default(role: Role) -> None:
    d = logged_on(role)
    d.session.send(news("a"), d.now)
    assert Tag.LAST_MSG_SEQ_NUM_PROCESSED not in d.sent()[0]


# -- EnableNextExpectedMsgSeqNum -----------------------------------------------------------------


def test_next_expected_on_the_initiators_logon() -> None:
    d = DirectSession(Role.INITIATOR, enable_next_expected_msg_seq_num=True, next_target_seq=7)
    d.connect()
    [logon] = d.sent()
    assert logon.get(Tag.NEXT_EXPECTED_MSG_SEQ_NUM) == b"7"


@pytest.mark.parametrize(("expected", "seq", "advertised"), [(1, 1, 2), (5, 5, 6), (5, 8, 5)])
def test_next_expected_on_the_acceptors_answer(expected: int, seq: int, advertised: int) -> None:
    """The answer counts the Logon it answers when that Logon was in sequence."""
    d = DirectSession(
        Role.ACCEPTOR, enable_next_expected_msg_seq_num=True, next_target_seq=expected
    )
    d.connect()
    d.receive(MsgType.LOGON, *LOGON_BODY, seq=seq)
    answer = d.sent()[0]
    assert answer.msg_type == MsgType.LOGON
    assert answer.get(Tag.NEXT_EXPECTED_MSG_SEQ_NUM) == b"%d" % advertised


def _after_a_first_connection(role: Role) -> DirectSession:
    """Logged on once, sent News 2 and 3, then the connection dropped; reconnected."""
    d = logged_on(role, enable_next_expected_msg_seq_num=True)
    d.session.send(news("a"), d.now)
    d.session.send(news("b"), d.now)
    d.sent()
    d.session.connection_lost(d.now)
    d.events()
    d.connect()
    d.sent()
    d.events()
    return d


@ROLES
def test_next_expected_lower_than_ours_replays(role: Role) -> None:
    d = _after_a_first_connection(role)
    d.receive(MsgType.LOGON, *LOGON_BODY, (Tag.NEXT_EXPECTED_MSG_SEQ_NUM, 2))
    events = d.events()
    our_logon = 4
    last = our_logon if role is Role.INITIATOR else our_logon - 1  # the answer was received
    assert events[-1] == ResendRequested(2, last)
    assert isinstance(events[-2], LoggedOn)
    out = d.sent()
    assert [m.msg_type for m in out] == ([MsgType.LOGON] if role is Role.ACCEPTOR else [])
    replayed = d.replay(2, last)
    assert [(m.seq_num, m.get(Tag.HEADLINE)) for m in replayed[:2]] == [(2, b"a"), (3, b"b")]
    assert all(m.get(Tag.POSS_DUP_FLAG) == b"Y" for m in replayed)
    assert d.session.is_logged_on


@ROLES
def test_next_expected_higher_than_ours_logs_out(role: Role) -> None:
    d = _after_a_first_connection(role)
    d.receive(MsgType.LOGON, *LOGON_BODY, (Tag.NEXT_EXPECTED_MSG_SEQ_NUM, 9))
    ours = 5 if role is Role.INITIATOR else 4
    text = f"NextExpectedMsgSeqNum 9 too high, our next is {ours}"
    out = d.sent()
    assert out[-1].msg_type == MsgType.LOGOUT
    assert out[-1].get(Tag.TEXT) == text.encode()
    assert d.events()[-2:] == [LogoutSent(text), Disconnected(text, error=True)]


def test_next_expected_over_a_pair_needs_no_resend() -> None:
    on = {"enable_next_expected_msg_seq_num": True}
    pair = SessionPair(settings(Role.INITIATOR, **on), settings(Role.ACCEPTOR, **on))
    pair.logon()
    pair.send(pair.initiator, news("a"))
    pair.send(pair.acceptor, news("b"))
    for side in (pair.initiator, pair.acceptor):
        assert side.events_of(ResendRequested) == []
        assert MsgType.SEQUENCE_RESET not in side.sent_types()
        assert [m.get(Tag.HEADLINE) for m in side.delivered] in ([b"a"], [b"b"])


def test_next_expected_recovers_lost_messages_on_the_next_logon() -> None:
    on = {"enable_next_expected_msg_seq_num": True}
    pair = SessionPair(settings(Role.INITIATOR, **on), settings(Role.ACCEPTOR, **on))
    pair.logon()
    pair.to_initiator = lambda frame: []
    pair.send(pair.acceptor, news("lost"))
    pair.disconnect()
    pair.to_initiator = None
    pair.connect()
    assert [m.get(Tag.HEADLINE) for m in pair.initiator.delivered] == [b"lost"]
    # 789 makes the acceptor replay at once, after its Logon; the initiator still asks, as
    # the standard wants for a Logon above the expected number, and ignores the second copy.
    assert pair.acceptor.events_of(ResendRequested)[0] == ResendRequested(2, 2)
    assert pair.initiator.events_of(DuplicateIgnored) == [
        DuplicateIgnored(2, NEWS),
        DuplicateIgnored(3, MsgType.SEQUENCE_RESET),  # the gap fill for the acceptor's Logon
    ]
    assert pair.initiator.session.next_target_seq == pair.acceptor.session.next_sender_seq


# -- CheckCompID, CheckLatency -------------------------------------------------------------------


@ROLES
def test_check_comp_id_off_accepts_any_comp_ids(role: Role) -> None:
    d = DirectSession(role, check_comp_id=False)
    d.connect()
    d.sent()
    d.receive(MsgType.LOGON, *LOGON_BODY, sender="SOMEONE", target="ELSE")
    assert d.session.is_logged_on
    d.receive(NEWS, *news_body("x"), sender="SOMEONE", target="ELSE")
    assert headlines(d.events()) == [b"x"]
    assert [m.msg_type for m in d.sent()] == ([MsgType.LOGON] * (role is Role.ACCEPTOR))


@ROLES
def test_check_latency_off_accepts_any_sending_time(role: Role) -> None:
    d = DirectSession(role, check_latency=False)
    d.connect()
    d.receive(MsgType.LOGON, *LOGON_BODY, sending_time=T0 - timedelta(hours=5))
    assert d.session.is_logged_on
    d.receive(NEWS, *news_body("x"), sending_time=T0 + timedelta(days=1))
    assert headlines(d.events()) == [b"x"]


@ROLES
def test_max_latency_setting(role: Role) -> None:
    d = logged_on(role, max_latency=timedelta(seconds=5))
    d.receive(NEWS, *news_body("x"), sending_time=T0 - timedelta(seconds=5))
    assert headlines(d.events()) == [b"x"]
    d.receive(NEWS, *news_body("y"), sending_time=T0 - timedelta(seconds=5.001))
    assert [m.msg_type for m in d.sent()] == [MsgType.REJECT, MsgType.LOGOUT]


# -- refresh, reset_sequences, constructor -------------------------------------------------------


def test_refresh_takes_sequence_numbers_again_while_disconnected() -> None:
    d = logged_on(Role.INITIATOR)
    with pytest.raises(LocalProtocolError):
        d.session.refresh(10, 20)
    d.session.connection_lost(d.now)
    d.session.refresh(10, 20)
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (10, 20)
    with pytest.raises(LocalProtocolError):
        d.session.refresh(0, 5)
    d.connect()
    assert d.sent()[0].seq_num == 10


def test_reset_sequences_while_disconnected() -> None:
    d = logged_on(Role.ACCEPTOR)
    d.session.send(news("a"), d.now)
    with pytest.raises(LocalProtocolError):
        d.session.reset_sequences("new day")
    d.session.connection_lost(d.now)
    d.sent()
    d.events()
    d.session.reset_sequences("new day")
    assert d.events() == [SequencesReset("new day")]
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (1, 1)
    update = d.session.store_update()
    assert update is not None
    assert (update.reset, update.messages, update.next_sender_seq) == (True, [], 1)
    assert d.session.store_update() is None


@pytest.mark.parametrize(("out", "into"), [(0, 1), (1, 0)])
def test_sequence_numbers_start_at_1(out: int, into: int) -> None:
    with pytest.raises(LocalProtocolError):
        Session(settings(Role.INITIATOR), next_sender_seq=out, next_target_seq=into)


# -- sending: what is allowed, what is stored ----------------------------------------------------


@ROLES
def test_send_rules_and_storage(role: Role) -> None:
    d = DirectSession(role)
    with pytest.raises(LocalProtocolError):
        d.session.send(news("early"), d.now)
    d.logon()
    with pytest.raises(LocalProtocolError):
        d.session.send(Message.new(MsgType.HEARTBEAT), d.now)
    assert d.session.send(news("a"), d.now) == 2
    reject = Message.new(MsgType.REJECT, (Tag.REF_SEQ_NUM, 1), (Tag.SESSION_REJECT_REASON, 99))
    assert d.session.send(reject, d.now) == 3
    d.sent()
    assert sorted(d.stored) == [2]  # application messages only; Rejects are gap-filled


@ROLES
def test_persist_messages_off_stores_nothing(role: Role) -> None:
    d = logged_on(role, persist_messages=False)
    d.session.send(news("a"), d.now)
    d.sent()
    assert d.stored == {}


@pytest.mark.parametrize(
    ("precision", "sending_time"),
    [(0, b"20261125-09:00:00"), (3, b"20261125-09:00:00.000"), (6, b"20261125-09:00:00.000000")],
)
def test_timestamp_precision(precision: int, sending_time: bytes) -> None:
    d = DirectSession(Role.INITIATOR, timestamp_precision=precision)
    d.connect()
    assert d.sent()[0].get(Tag.SENDING_TIME) == sending_time


# -- receiving: validation off, a bounded stash, framed input ------------------------------------


@ROLES
def test_validate_off_delivers_what_the_dictionary_would_reject(role: Role) -> None:
    d = logged_on(role, validate=False)
    d.receive(NEWS, (Tag.TEXT, "no headline"))
    assert [type(e) for e in d.events()] == [AppMessageReceived]
    assert d.sent() == []


@ROLES
def test_max_stashed_messages_drops_and_gets_them_back_by_resend(role: Role) -> None:
    d = logged_on(role, max_stashed_messages=1)
    d.receive(NEWS, *news_body("4"), seq=4)
    d.receive(NEWS, *news_body("5"), seq=5)  # the stash is full: dropped
    d.sent()
    got: list[bytes | None] = []
    dup = ((Tag.POSS_DUP_FLAG, True), (Tag.ORIG_SENDING_TIME, T0))
    for seq in (2, 3, 4, 5):
        d.receive(NEWS, *news_body(str(seq)), seq=seq, header=dup)
        got += headlines(d.events())
    assert got == [b"2", b"3", b"4", b"5"]
    assert not d.session.awaiting_resend


def test_receive_message_for_drivers_that_frame_themselves() -> None:
    d = logged_on(Role.ACCEPTOR)
    msg = Message.from_frame(d.frame(NEWS, *news_body("framed")))
    d.session.receive_message(msg, d.now)
    assert headlines(d.events()) == [b"framed"]
    d.session.connection_lost(d.now)
    with pytest.raises(LocalProtocolError):
        d.session.receive_message(msg, d.now)


# -- Logon inside an active session --------------------------------------------------------------


@ROLES
@pytest.mark.parametrize(
    ("extra", "seq", "text"),
    [
        ((), 2, "Logon received while already logged on"),
        ((), 1, "Logon received while already logged on"),
        (((Tag.RESET_SEQ_NUM_FLAG, True),), 5, "ResetSeqNumFlag=Y with MsgSeqNum 5, expected 1"),
    ],
    ids=["in-sequence", "seq-too-low", "reset-not-at-1"],
)
def test_logon_while_logged_on_without_a_proper_reset_logs_out(
    role: Role, extra: tuple[tuple[int, object], ...], seq: int, text: str
) -> None:
    d = logged_on(role)
    d.receive(MsgType.LOGON, *LOGON_BODY, *extra, seq=seq)
    assert [m.msg_type for m in d.sent()] == [MsgType.LOGOUT]
    assert d.events()[-2:] == [LogoutSent(text), Disconnected(text, error=True)]


@ROLES
def test_logon_with_141_during_the_session_resets_sequences(role: Role) -> None:
    d = logged_on(role)
    d.receive(NEWS, *news_body("x"))
    d.receive(MsgType.LOGON, *LOGON_BODY, (Tag.RESET_SEQ_NUM_FLAG, True), seq=1)
    [answer] = d.sent()
    assert (answer.msg_type, answer.seq_num, answer.get(Tag.RESET_SEQ_NUM_FLAG)) == (
        MsgType.LOGON,
        1,
        b"Y",
    )
    events = d.events()
    assert events[-1] == LoggedOn(30, True)
    assert (d.session.next_sender_seq, d.session.next_target_seq) == (2, 2)
    d.receive(NEWS, *news_body("after"), seq=2)
    assert headlines(d.events()) == [b"after"]
    assert d.session.state is SessionState.ACTIVE


def test_gap_filled_event_reports_the_next_expected() -> None:
    d = logged_on(Role.ACCEPTOR)
    d.receive(NEWS, *news_body("3"), seq=3)
    d.receive(NEWS, *news_body("2"), seq=2)
    assert d.events()[-1] == GapFilled(4)
