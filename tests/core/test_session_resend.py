"""FIX session-layer test cases 8 (ResendRequest received) and 20 (simultaneous
ResendRequests), and our own outbound ResendRequests (chunked, redundant), FIX 4.4.

The session we test sends: 1 Logon (T0), 2 News "a" (T0+1), 3 News "b" (T0+2), 4 Heartbeat
(T0+32), 5 News "c" (T0+40); then the peer asks for them again at T0+50.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.core.session_pair import ROLES, T0, DirectSession, SessionPair, news_body, settings
from tests.core.session_pair import news_message as news
from trifix.core.errors import LocalProtocolError
from trifix.core.events import (
    AppMessageReceived,
    DuplicateIgnored,
    Event,
    GapDetected,
    GapFilled,
    ResendRequested,
)
from trifix.core.fields import format_utc_timestamp
from trifix.core.message import Message
from trifix.core.settings import Role
from trifix.core.tags import MsgType, Tag

NEWS = MsgType.NEWS
RESET = MsgType.SEQUENCE_RESET
RESEND_AT = T0 + timedelta(seconds=50)


def ts(at: datetime) -> bytes:
    return format_utc_timestamp(at)


def poss_dup() -> tuple[tuple[int, object], ...]:
    return ((Tag.POSS_DUP_FLAG, True), (Tag.ORIG_SENDING_TIME, T0))


def with_history(role: Role, **options: object) -> DirectSession:
    """Logged on, having sent 2 a, 3 b, 4 Heartbeat, 5 c; the clock at T0+50."""
    d = DirectSession(role, **options)
    d.logon()
    for at, headline in ((1, "a"), (2, "b")):
        d.clock.now = T0 + timedelta(seconds=at)
        d.session.send(news(headline), d.now)
    d.clock.now = T0 + timedelta(seconds=31)
    d.receive(MsgType.HEARTBEAT)  # keep the peer alive: no TestRequest in our history
    d.advance(9)  # our Heartbeat at T0+32
    d.session.send(news("c"), d.now)
    d.advance(10)
    assert d.now == RESEND_AT
    assert [m.msg_type for m in d.sent()] == [NEWS, NEWS, MsgType.HEARTBEAT, NEWS]
    d.events()
    return d


def ask(d: DirectSession, begin: int, end: int) -> list[Event]:
    d.receive(MsgType.RESEND_REQUEST, (Tag.BEGIN_SEQ_NO, begin), (Tag.END_SEQ_NO, end))
    return d.events()


def summary(out: list[Message]) -> list[tuple[int, str, int | None]]:
    """(MsgSeqNum, MsgType, NewSeqNo) of each message."""
    return [(m.seq_num, m.msg_type, m.get_int(Tag.NEW_SEQ_NO, None)) for m in out]


def assert_gap_fill(msg: Message, seq: int, new_seq: int) -> None:
    assert msg.msg_type == RESET
    assert msg.seq_num == seq
    assert msg.get(Tag.GAP_FILL_FLAG) == b"Y"
    assert msg.get(Tag.POSS_DUP_FLAG) == b"Y"
    assert msg.get_int(Tag.NEW_SEQ_NO) == new_seq
    assert msg.get(Tag.SENDING_TIME) == ts(RESEND_AT)
    assert msg.get(Tag.ORIG_SENDING_TIME) == ts(RESEND_AT)


def assert_resent(msg: Message, original: bytes, seq: int) -> None:
    """A replayed application message: same body, PossDupFlag=Y, OrigSendingTime = the
    original SendingTime, and a new SendingTime."""
    orig = Message.from_frame(original)
    assert msg.seq_num == seq == orig.seq_num
    assert msg.get(Tag.POSS_DUP_FLAG) == b"Y"
    assert msg.get(Tag.ORIG_SENDING_TIME) == orig.get(Tag.SENDING_TIME)
    assert msg.get(Tag.SENDING_TIME) == ts(RESEND_AT)
    assert msg.get(Tag.HEADLINE) == orig.get(Tag.HEADLINE)
    assert msg.msg_type == orig.msg_type


# -- 8: answering a ResendRequest ----------------------------------------------------------------


@ROLES
def test_8_resend_request_replays_app_messages_and_gap_fills_admin_ones(role: Role) -> None:
    d = with_history(role)
    assert ask(d, 1, 0)[-1] == ResendRequested(1, 5)  # EndSeqNo 0: through our last
    assert d.session.next_target_seq == 4  # the request's own number is consumed
    out = d.replay(1, 5)
    assert summary(out) == [
        (1, RESET, 2),
        (2, NEWS, None),
        (3, NEWS, None),
        (4, RESET, 5),
        (5, NEWS, None),
    ]
    assert_gap_fill(out[0], 1, 2)  # our Logon
    assert_resent(out[1], d.stored[2], 2)
    assert_resent(out[2], d.stored[3], 3)
    assert out[1].get(Tag.ORIG_SENDING_TIME) == ts(T0 + timedelta(seconds=1))
    assert_gap_fill(out[3], 4, 5)  # our Heartbeat
    assert_resent(out[4], d.stored[5], 5)
    assert out[4].get(Tag.ORIG_SENDING_TIME) == ts(T0 + timedelta(seconds=40))
    # A replay changes neither our numbers nor the store.
    assert d.session.next_sender_seq == 6
    assert d.session.store_update() is None


@ROLES
@pytest.mark.parametrize(
    ("begin", "end", "asked", "expected"),
    [
        (3, 99, (3, 5), [(3, NEWS, None), (4, RESET, 5), (5, NEWS, None)]),
        (3, 3, (3, 3), [(3, NEWS, None)]),
        (4, 4, (4, 4), [(4, RESET, 5)]),
        (2, 4, (2, 4), [(2, NEWS, None), (3, NEWS, None), (4, RESET, 5)]),
    ],
    ids=["end-beyond-last", "one-app", "one-admin", "inner-range"],
)
def test_8_resend_request_ranges(
    role: Role,
    begin: int,
    end: int,
    asked: tuple[int, int],
    expected: list[tuple[int, str, int | None]],
) -> None:
    d = with_history(role)
    assert ask(d, begin, end)[-1] == ResendRequested(*asked)
    assert summary(d.replay(*asked)) == expected


@ROLES
def test_8_resend_request_beyond_what_we_sent_is_ignored(role: Role) -> None:
    d = with_history(role)
    events = ask(d, 9, 0)
    assert not [e for e in events if isinstance(e, ResendRequested)]
    assert d.sent() == []
    assert d.session.next_target_seq == 4


@ROLES
def test_8_consecutive_admin_messages_merged_into_one_gap_fill(role: Role) -> None:
    d = DirectSession(role)
    d.logon()
    for _ in range(3):  # three Heartbeats of ours at 30, 60, 90; the peer keeps talking
        d.advance(29)
        d.receive(MsgType.HEARTBEAT)
        d.advance(1)
    d.session.send(news("after"), d.now)
    assert summary(d.sent()) == [(2, "0", None), (3, "0", None), (4, "0", None), (5, NEWS, None)]
    assert ask(d, 1, 0)[-1] == ResendRequested(1, 5)
    out = d.replay(1, 5)
    assert summary(out) == [(1, RESET, 5), (5, NEWS, None)]


@ROLES
def test_8_unstored_and_unreadable_messages_become_gap_fills(role: Role) -> None:
    d = with_history(role)
    del d.stored[3]  # trimmed from the store
    d.stored[5] = b"not a FIX frame"  # damaged in the store
    ask(d, 2, 5)
    out = d.replay(2, 5)
    assert summary(out) == [(2, NEWS, None), (3, RESET, 6)]
    assert out[1].get(Tag.ORIG_SENDING_TIME) == ts(RESEND_AT)


@ROLES
def test_8_admin_messages_in_the_store_are_gap_filled(role: Role) -> None:
    """A store may hold admin messages too (a driver that stores everything)."""
    d = with_history(role)
    heartbeat = d.frame(MsgType.HEARTBEAT, seq=4, sender="X", target="Y")
    d.stored[4] = heartbeat
    ask(d, 3, 5)
    assert summary(d.replay(3, 5)) == [(3, NEWS, None), (4, RESET, 5), (5, NEWS, None)]


@ROLES
def test_8_persist_messages_off_one_gap_fill_for_the_whole_range(role: Role) -> None:
    d = with_history(role, persist_messages=False)
    assert d.stored == {}
    assert ask(d, 1, 0)[-1] == ResendRequested(1, 5)
    out = d.replay(1, 5)
    assert summary(out) == [(1, RESET, 6)]
    assert_gap_fill(out[0], 1, 6)
    # Even if the driver offers stored messages, nothing is resent.
    d.session.replay(2, 3, [(2, b"8=FIX.4.4\x01"), (3, b"8=FIX.4.4\x01")], d.now)
    assert summary(d.sent()) == [(2, RESET, 4)]


@ROLES
def test_8_new_messages_during_a_streamed_replay_come_after_it(role: Role) -> None:
    d = with_history(role)
    ask(d, 1, 0)
    d.sent()
    replay = d.session.begin_replay(1, 5, d.now)
    replay.feed([(s, d.stored[s]) for s in (2, 3)])
    new_seq = d.session.send(news("new"), d.now)  # held back until the replay finishes
    assert new_seq == 6
    d.advance(30)  # a Heartbeat falls due meanwhile: held back too
    first = d.session.data_to_send()
    assert [Message.from_frame(f).seq_num for f in first] == [1, 2, 3]
    replay.feed([(5, d.stored[5]), (2, d.stored[2])])  # out-of-range and repeated pairs skipped
    replay.finish()
    replay.finish()  # idempotent
    rest = summary(d.sent())
    assert rest == [(4, RESET, 5), (5, NEWS, None), (6, NEWS, None), (7, "0", None)]
    with pytest.raises(LocalProtocolError):
        replay.feed([])


def test_8_replay_misuse_raises() -> None:
    d = with_history(Role.ACCEPTOR)
    d.session.begin_replay(1, 2, d.now)
    with pytest.raises(LocalProtocolError):
        d.session.begin_replay(1, 2, d.now)
    d.session.connection_lost(d.now)
    with pytest.raises(LocalProtocolError):
        d.session.begin_replay(1, 2, d.now)


@ROLES
def test_8_resend_request_answered_over_a_lossy_pair(role: Role) -> None:
    pair = SessionPair()
    pair.logon()
    sender, receiver = (
        (pair.initiator, pair.acceptor)
        if role is Role.INITIATOR
        else (pair.acceptor, pair.initiator)
    )
    lost: list[int] = []

    def lossy(frame: bytes) -> list[bytes]:
        """Loses the first frame with MsgSeqNum 3 ("b"), not its resend."""
        if Message.from_frame(frame).seq_num == 3 and not lost:
            lost.append(3)
            return []
        return [frame]

    if role is Role.INITIATOR:
        pair.to_acceptor = lossy
    else:
        pair.to_initiator = lossy
    for headline in "abcd":
        pair.send(sender, news(headline))
    assert [m.get(Tag.HEADLINE) for m in receiver.delivered] == [b"a", b"b", b"c", b"d"]
    assert receiver.events_of(GapDetected) == [GapDetected(3, 4, 3, 0)]
    assert receiver.events_of(GapFilled) == [GapFilled(5)]
    assert sender.events_of(ResendRequested) == [ResendRequested(3, 4)]
    flags = [e.poss_dup for e in receiver.events_of(AppMessageReceived)]  # type: ignore[attr-defined]
    assert flags == [False, True, False, False]
    assert receiver.events_of(DuplicateIgnored) == [DuplicateIgnored(4, NEWS)]


# -- our own ResendRequests: chunked, redundant --------------------------------------------------


def headlines(events: list[Event]) -> list[bytes | None]:
    return [e.message.get(Tag.HEADLINE) for e in events if isinstance(e, AppMessageReceived)]


def ranges(out: list[Message]) -> list[tuple[int, int]]:
    return [
        (m.get_int(Tag.BEGIN_SEQ_NO), m.get_int(Tag.END_SEQ_NO))
        for m in out
        if m.msg_type == MsgType.RESEND_REQUEST
    ]


@ROLES
def test_chunked_resend_requests_ask_for_successive_chunks(role: Role) -> None:
    d = DirectSession(role, resend_request_chunk_size=2)
    d.logon()
    d.receive(NEWS, *news_body("7"), seq=7)
    assert ranges(d.sent()) == [(2, 3)]
    assert d.events() == [GapDetected(2, 7, 2, 3)]
    d.receive(NEWS, *news_body("8"), seq=8)
    assert d.sent() == []  # the outstanding chunked request already leads there
    delivered: list[bytes | None] = []
    asked: list[tuple[int, int]] = []
    for seq in range(2, 7):
        d.receive(NEWS, *news_body(str(seq)), seq=seq, header=poss_dup())
        delivered += headlines(d.events())
        asked += ranges(d.sent())
    assert asked == [(4, 5), (6, 7)]  # chunks run up to the highest seen (8), exclusive
    assert delivered == [str(n).encode() for n in range(2, 9)]
    assert d.session.next_target_seq == 9
    assert not d.session.awaiting_resend


@ROLES
@pytest.mark.parametrize("redundant", [False, True])
def test_send_redundant_resend_requests(role: Role, redundant: bool) -> None:
    d = DirectSession(role, send_redundant_resend_requests=redundant)
    d.logon()
    d.receive(NEWS, *news_body("5"), seq=5)
    d.receive(NEWS, *news_body("6"), seq=6)
    assert ranges(d.sent()) == ([(2, 0), (2, 0)] if redundant else [(2, 0)])
    gaps = [e for e in d.events() if isinstance(e, GapDetected)]
    assert gaps == [GapDetected(2, 5, 2, 0), GapDetected(2, 6, 2, 0)][: 2 if redundant else 1]


@ROLES
def test_unanswered_resend_request_sent_again_after_resend_request_timeout(role: Role) -> None:
    d = DirectSession(role, resend_request_timeout=timedelta(seconds=10))
    d.logon()
    d.receive(NEWS, *news_body("5"), seq=5)
    assert ranges(d.sent()) == [(2, 0)]
    d.events()
    assert d.session.next_deadline() == T0 + timedelta(seconds=10)
    d.advance(9.999)
    assert d.sent() == []
    d.advance(0.001)
    assert ranges(d.sent()) == [(2, 0)]
    assert d.events() == [GapDetected(2, 5, 2, 0)]
    d.receive(NEWS, *news_body("2"), seq=2, header=poss_dup())  # progress: the clock restarts
    assert d.session.next_deadline() == T0 + timedelta(seconds=20)


@ROLES
def test_gap_fill_from_the_peer_skips_stashed_messages_it_covers(role: Role) -> None:
    d = DirectSession(role)
    d.logon()
    d.receive(NEWS, *news_body("4"), seq=4)
    d.receive(RESET, (Tag.GAP_FILL_FLAG, True), (Tag.NEW_SEQ_NO, 5), seq=2, header=poss_dup())
    events = d.events()
    assert headlines(events) == []  # 4 was covered by the gap fill: dropped from the stash
    assert events[-1] == GapFilled(5)
    assert d.session.next_target_seq == 5


# -- 20: simultaneous ResendRequests -------------------------------------------------------------


@pytest.mark.parametrize("chunk", [0, 1], ids=["whole", "chunked"])
def test_20_simultaneous_resend_requests_both_answered(chunk: int) -> None:
    pair = SessionPair(
        settings(Role.INITIATOR, resend_request_chunk_size=chunk),
        settings(Role.ACCEPTOR, resend_request_chunk_size=chunk),
    )
    pair.logon()
    drop = {"to_acceptor": True, "to_initiator": True}

    def dropper(direction: str) -> object:
        def link(frame: bytes) -> list[bytes]:
            if drop[direction] and Message.from_frame(frame).msg_type == NEWS:
                drop[direction] = False
                return []
            return [frame]

        return link

    pair.to_acceptor = dropper("to_acceptor")  # type: ignore[assignment]
    pair.to_initiator = dropper("to_initiator")  # type: ignore[assignment]
    pair.initiator.session.send(news("i1"), pair.now)
    pair.acceptor.session.send(news("a1"), pair.now)
    pair.pump()  # both lost
    pair.initiator.session.send(news("i2"), pair.now)
    pair.acceptor.session.send(news("a2"), pair.now)
    pair.pump()  # each sees a gap and asks while the other is asking too
    for side, other, got in (
        (pair.initiator, pair.acceptor, b"a"),
        (pair.acceptor, pair.initiator, b"i"),
    ):
        assert [m.get(Tag.HEADLINE) for m in side.delivered] == [got + b"1", got + b"2"]
        assert side.events_of(GapDetected)[0] == GapDetected(2, 3, 2, chunk and 2)
        assert side.events_of(ResendRequested)
        assert not side.session.awaiting_resend
        assert side.session.next_target_seq == other.session.next_sender_seq
        assert side.session.is_logged_on
    # And the session carries on in order.
    pair.send(pair.initiator, news("i3"))
    assert pair.acceptor.delivered[-1].get(Tag.HEADLINE) == b"i3"
