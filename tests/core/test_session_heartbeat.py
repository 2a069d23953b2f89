"""FIX session-layer test cases 3 (Heartbeat received), 4 (send Heartbeat), 5 (TestRequest
received) and 6 (send TestRequest), FIX 4.4, for both roles, on a fake clock.

With HeartBtInt 30 and the default TestRequestDelayMultiplier 0.5: we send a Heartbeat after 30 s
of our own silence, a TestRequest after 45 s of the peer's, and give up 45 s after that.
Times are read back from each message's SendingTime.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.core.session_pair import ROLES, T0, DirectSession, SessionPair, settings
from trifix.core.events import (
    AdminMessageReceived,
    Disconnected,
    HeartbeatSent,
    PeerTimedOut,
)
from trifix.core.events import TestRequestSent as SentTestRequest  # not a test class
from trifix.core.message import Message
from trifix.core.settings import Role
from trifix.core.state import SessionState
from trifix.core.tags import MsgType, Tag

HB = MsgType.HEARTBEAT
TR = MsgType.TEST_REQUEST
NEWS_BODY = ((Tag.HEADLINE, "h"), (Tag.NO_LINES_OF_TEXT, 1), (Tag.TEXT, "line"))


def logged_on(role: Role, **options: object) -> DirectSession:
    d = DirectSession(role, **options)
    d.logon()
    return d


def timeline(out: list[Message]) -> list[tuple[float, str, int, bytes | None]]:
    """(seconds after T0 from SendingTime, MsgType, MsgSeqNum, TestReqID) of each message."""
    return [
        (
            (m.get_utc_timestamp(Tag.SENDING_TIME) - T0).total_seconds(),
            m.msg_type,
            m.seq_num,
            m.get(Tag.TEST_REQ_ID),
        )
        for m in out
    ]


# -- 4 a: Heartbeat after HeartBtInt of our silence ---------------------------------------------


@ROLES
def test_4_a_heartbeat_after_heartbtint_of_silence(role: Role) -> None:
    d = logged_on(role)
    assert d.session.next_deadline() == T0 + timedelta(seconds=30)
    d.advance(29.999)
    assert d.sent() == []
    d.advance(0.001)
    assert timeline(d.sent()) == [(30.0, HB, 2, None)]
    assert d.events() == [HeartbeatSent(None)]
    assert d.session.is_logged_on


@ROLES
def test_4_a_our_own_traffic_postpones_the_heartbeat(role: Role) -> None:
    d = logged_on(role)
    d.advance(20)
    news = Message.new(MsgType.NEWS, (Tag.HEADLINE, "h"))
    news.add_group(Tag.NO_LINES_OF_TEXT, [[(Tag.TEXT, "line")]])
    d.session.send(news, d.now)
    d.receive(HB)  # the peer is alive too, so no TestRequest gets in the way
    d.advance(40)
    assert timeline(d.sent()) == [(20.0, MsgType.NEWS, 2, None), (50.0, HB, 3, None)]


@ROLES
def test_4_heartbeat_interval_from_the_logon_drives_the_timer(role: Role) -> None:
    d = DirectSession(role, heartbeat_interval=5)
    d.logon(heartbeat_interval=5)
    d.receive(HB)
    d.advance(5)
    assert timeline(d.sent()) == [(5.0, HB, 2, None)]


@ROLES
def test_4_heartbtint_zero_disables_timers(role: Role) -> None:
    d = DirectSession(role, heartbeat_interval=0)
    d.logon(heartbeat_interval=0)
    assert d.session.heartbeat_interval == 0
    assert d.session.next_deadline() is None
    d.advance(3600)
    d.session.handle_timer(d.now)
    assert d.sent() == []
    assert d.events() == []
    assert d.session.is_logged_on


# -- 3, 5: Heartbeat and TestRequest received --------------------------------------------------


@ROLES
def test_3_heartbeat_received_accepted(role: Role) -> None:
    d = logged_on(role)
    d.receive(HB)
    assert [type(e) for e in d.events()] == [AdminMessageReceived]
    assert d.sent() == []
    assert d.session.next_target_seq == 3


@ROLES
def test_4_b_5_test_request_answered_with_heartbeat_echoing_test_req_id(role: Role) -> None:
    d = logged_on(role)
    d.advance(3)
    d.receive(TR, (Tag.TEST_REQ_ID, "ping-17"))
    assert timeline(d.sent()) == [(3.0, HB, 2, b"ping-17")]
    events = d.events()
    assert [type(e) for e in events] == [AdminMessageReceived, HeartbeatSent]
    assert events[1] == HeartbeatSent("ping-17")
    assert d.session.next_target_seq == 3
    # The answer counts as our traffic: the next Heartbeat is 30 s after it.
    d.receive(HB)
    d.advance(30)
    assert timeline(d.sent()) == [(33.0, HB, 3, None)]


# -- 6: TestRequest when the peer goes quiet ------------------------------------------------------


@ROLES
def test_6_a_test_request_then_disconnect_when_unanswered(role: Role) -> None:
    d = logged_on(role)
    d.advance(44.999)
    assert timeline(d.sent()) == [(30.0, HB, 2, None)]
    d.advance(0.001)
    assert timeline(d.sent()) == [(45.0, TR, 3, b"TEST1")]
    d.advance(100)
    assert timeline(d.sent()) == [(75.0, HB, 4, None)]
    assert d.events() == [
        HeartbeatSent(None),
        SentTestRequest("TEST1"),
        HeartbeatSent(None),
        PeerTimedOut(),
        Disconnected("peer timed out: no answer to TestRequest", error=True),
    ]
    assert d.session.state is SessionState.DISCONNECTED
    assert d.now == T0 + timedelta(seconds=145)


@ROLES
def test_6_a_test_request_delay_multiplier_zero(role: Role) -> None:
    d = logged_on(role, test_request_delay_multiplier=0.0)
    d.advance(59.999)
    assert timeline(d.sent()) == [(30.0, TR, 2, b"TEST1")]  # due with the Heartbeat: TR only
    assert d.session.is_logged_on
    d.advance(0.001)
    assert d.sent() == []
    assert d.events()[-2:] == [
        PeerTimedOut(),
        Disconnected("peer timed out: no answer to TestRequest", error=True),
    ]


@ROLES
def test_6_test_request_answered_by_heartbeat_with_its_id(role: Role) -> None:
    d = logged_on(role)
    d.advance(45)
    d.sent()
    d.advance(5)
    d.receive(HB, (Tag.TEST_REQ_ID, "TEST1"))
    d.advance(50)  # to T0+100: past the 90 s at which an unanswered request would end it
    assert d.session.is_logged_on
    assert timeline(d.sent()) == [(75.0, HB, 4, None), (95.0, TR, 5, b"TEST2")]
    assert PeerTimedOut() not in d.events()


@ROLES
@pytest.mark.parametrize(
    ("msg_type", "body"),
    [
        (MsgType.NEWS, NEWS_BODY),
        (HB, ((Tag.TEST_REQ_ID, "not-ours"),)),
        (TR, ((Tag.TEST_REQ_ID, "theirs"),)),
    ],
    ids=["app-message", "heartbeat-other-id", "their-test-request"],
)
def test_6_any_data_from_the_peer_cancels_the_pending_test_request(
    role: Role, msg_type: str, body: tuple[tuple[int, object], ...]
) -> None:
    d = logged_on(role)
    d.advance(45)
    assert timeline(d.sent())[-1] == (45.0, TR, 3, b"TEST1")
    d.advance(15)
    d.receive(msg_type, *body)
    answer = d.sent()
    d.advance(46)  # to T0+106
    assert d.session.is_logged_on
    assert PeerTimedOut() not in d.events()
    later = timeline(d.sent())
    assert later[-1] == (105.0, TR, later[-1][2], b"TEST2")  # 45 s after the peer spoke
    assert all(t > 60 for t, *_ in later)
    assert len(answer) == (1 if msg_type == TR else 0)


def test_6_peer_silenced_over_a_pair() -> None:
    pair = SessionPair()
    pair.logon()
    pair.to_acceptor = lambda frame: []  # everything the initiator says is lost
    pair.advance(100)
    assert pair.acceptor.events_of(SentTestRequest) == [SentTestRequest("TEST1")]
    assert pair.acceptor.events_of(PeerTimedOut) == [PeerTimedOut()]
    assert SessionPair.disconnect_reasons(pair.acceptor) == [
        "peer timed out: no answer to TestRequest"
    ]
    assert SessionPair.disconnect_reasons(pair.initiator) == ["peer closed the connection"]
    assert pair.disconnected()


def test_4_heartbeats_keep_a_quiet_pair_alive() -> None:
    pair = SessionPair(settings(Role.INITIATOR, heartbeat_interval=30), settings(Role.ACCEPTOR))
    pair.logon()
    pair.advance(300)
    for side in (pair.initiator, pair.acceptor):
        assert side.session.is_logged_on
        assert side.events_of(SentTestRequest) == []
        assert side.sent_types().count(HB) == 10
        assert side.session.next_sender_seq == 12


@ROLES
def test_timers_before_logon_and_after_disconnect(role: Role) -> None:
    d = DirectSession(role)
    assert d.session.next_deadline() is None
    d.session.handle_timer(d.now)  # disconnected: nothing to do
    d.connect()
    d.sent()
    d.events()
    d.session.handle_timer(d.now + timedelta(seconds=5))  # logon timeout not reached yet
    assert d.events() == []
    assert d.session.state is not SessionState.DISCONNECTED
    d.session.connection_lost(d.now)
    d.events()
    d.session.handle_timer(d.now + timedelta(seconds=60))
    assert d.events() == []
    assert d.session.next_deadline() is None
