"""Restart from the store: a side's core is rebuilt from its MemoryStore mid-session (a crash)
and logs on again with the same sequence numbers; what the other side missed is resent."""

from __future__ import annotations

from tests.core.session_pair import SessionPair, settings
from tests.core.session_pair import news_message as news
from trifix.core.events import (
    AppMessageReceived,
    DuplicateIgnored,
    GapDetected,
    GapFilled,
    ResendRequested,
)
from trifix.core.message import Message
from trifix.core.settings import Role
from trifix.core.tags import MsgType, Tag


def headlines(messages: list[Message]) -> list[bytes | None]:
    return [m.get(Tag.HEADLINE) for m in messages]


def chatty_pair(**options: object) -> SessionPair:
    """Logged on; the initiator sent News 2, 3 and the acceptor News 2."""
    pair = SessionPair(settings(Role.INITIATOR, **options), settings(Role.ACCEPTOR, **options))
    pair.logon()
    pair.send(pair.initiator, news("i1"))
    pair.send(pair.initiator, news("i2"))
    pair.send(pair.acceptor, news("a1"))
    return pair


def crash_initiator(pair: SessionPair) -> None:
    """The initiator's process dies: the acceptor sees the connection drop; the initiator's
    core is rebuilt from its store."""
    pair.acceptor.session.connection_lost(pair.now)
    pair.acceptor.collect()
    pair.initiator.restart()


def test_initiator_restart_continues_the_same_sequence_numbers() -> None:
    pair = chatty_pair()
    assert (pair.initiator.session.next_sender_seq, pair.initiator.session.next_target_seq) == (
        4,
        3,
    )
    crash_initiator(pair)
    assert (pair.initiator.session.next_sender_seq, pair.initiator.session.next_target_seq) == (
        4,
        3,
    )
    before = len(pair.initiator.sent_frames)
    pair.connect()
    logon = Message.from_frame(pair.initiator.sent_frames[before])
    assert (logon.msg_type, logon.seq_num) == (MsgType.LOGON, 4)
    assert Tag.RESET_SEQ_NUM_FLAG not in logon
    assert pair.initiator.session.is_logged_on
    assert pair.acceptor.session.is_logged_on
    for side in (pair.initiator, pair.acceptor):
        assert side.events_of(GapDetected) == []  # nothing was lost
    pair.send(pair.initiator, news("i3"))
    assert headlines(pair.acceptor.delivered) == [b"i1", b"i2", b"i3"]
    assert Message.from_frame(pair.initiator.sent_frames[-1]).seq_num == 5


def test_acceptor_messages_missed_during_the_crash_are_resent_after_restart() -> None:
    pair = chatty_pair()
    pair.to_initiator = lambda frame: []  # the initiator is dying: it reads nothing more
    pair.send(pair.acceptor, news("a2"))
    pair.send(pair.acceptor, news("a3"))
    crash_initiator(pair)
    pair.to_initiator = None
    pair.connect()
    # The acceptor's Logon (5) is above the initiator's expected 3: it asks, and gets 3 and 4.
    assert pair.initiator.events_of(GapDetected) == [GapDetected(3, 5, 3, 0)]
    assert pair.acceptor.events_of(ResendRequested) == [ResendRequested(3, 5)]
    assert headlines(pair.initiator.delivered) == [b"a1", b"a2", b"a3"]
    resent = pair.initiator.events_of(AppMessageReceived)[-2:]
    assert [e.poss_dup for e in resent] == [True, True]  # type: ignore[attr-defined]
    assert pair.initiator.events_of(GapFilled) == [GapFilled(6)]
    assert pair.initiator.session.next_target_seq == pair.acceptor.session.next_sender_seq == 6
    assert not pair.initiator.session.awaiting_resend


def test_a_message_stored_but_never_written_is_resent_after_restart() -> None:
    """The crash falls between the store commit and the socket write: the store has it, the
    peer never saw it; the next Logon's MsgSeqNum makes the peer ask for it."""
    pair = chatty_pair()
    pair.initiator.session.send(news("i3"), pair.now)
    pair.initiator.collect()  # stored (seq 4), bytes queued...
    crash_initiator(pair)  # ...and lost with the process
    assert pair.initiator.store.sequences("GW-LP").next_sender_seq == 5
    pair.connect()
    assert pair.acceptor.events_of(GapDetected) == [GapDetected(4, 5, 4, 0)]
    assert pair.initiator.events_of(ResendRequested) == [ResendRequested(4, 5)]
    assert headlines(pair.acceptor.delivered) == [b"i1", b"i2", b"i3"]
    assert pair.acceptor.session.next_target_seq == 6


def test_restart_with_next_expected_msg_seq_num_replays_right_after_logon() -> None:
    pair = chatty_pair(enable_next_expected_msg_seq_num=True)
    pair.initiator.session.send(news("i3"), pair.now)
    pair.initiator.collect()
    crash_initiator(pair)
    pair.connect()
    # The acceptor's answer says it expects 4: right after logon the initiator replays 4 and
    # gap-fills its Logon (5); once more for the acceptor's ResendRequest, and that second
    # copy is a duplicate, ignored.
    assert pair.initiator.events_of(ResendRequested) == [ResendRequested(4, 5)] * 2
    fill = MsgType.SEQUENCE_RESET
    assert pair.acceptor.events_of(DuplicateIgnored) == [
        DuplicateIgnored(5, fill),  # the Logon's number was already counted
        DuplicateIgnored(4, MsgType.NEWS),
        DuplicateIgnored(5, fill),
    ]
    assert headlines(pair.acceptor.delivered) == [b"i1", b"i2", b"i3"]
    assert pair.acceptor.session.next_target_seq == pair.initiator.session.next_sender_seq


def test_acceptor_restart_continues_too() -> None:
    pair = chatty_pair()
    pair.initiator.session.connection_lost(pair.now)
    pair.initiator.collect()
    pair.acceptor.restart()
    pair.connect()
    pair.send(pair.acceptor, news("a2"))
    assert headlines(pair.initiator.delivered) == [b"a1", b"a2"]
    assert Message.from_frame(pair.acceptor.sent_frames[-1]).seq_num == 4
