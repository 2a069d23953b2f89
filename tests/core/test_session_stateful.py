"""A hypothesis state machine over a SessionPair with a lossy, duplicating, breaking link.

Whatever the link does (drop frames, deliver them twice, cut the connection) and whichever side
crashes and restarts from its store, once the link heals every application message sent is
delivered exactly once and in order, and sequence numbers never go backwards (no resets are
configured here).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.core.session_pair import Endpoint, SessionPair
from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag

HEARTBEAT = 5


def _order(n: int, at: object) -> Message:
    return Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, f"C{n}"),
        (Tag.SIDE, "1"),
        (Tag.TRANSACT_TIME, at),
        (Tag.ORD_TYPE, "1"),
        (Tag.SYMBOL, "EURUSD"),
        (Tag.ORDER_QTY, n + 1),
    )


class LossyLink:
    """Per-direction plan: drop the next `drop` frames, or deliver the next one twice."""

    def __init__(self) -> None:
        self.drop = 0
        self.duplicate = 0

    def __call__(self, frame: bytes) -> list[bytes]:
        if self.drop:
            self.drop -= 1
            return []
        if self.duplicate:
            self.duplicate -= 1
            return [frame, frame]
        return [frame]


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        from tests.core.session_pair import settings as make_settings
        from trifix.core.settings import Role

        self.pair = SessionPair(
            make_settings(Role.INITIATOR, heartbeat_interval=HEARTBEAT),
            make_settings(Role.ACCEPTOR, heartbeat_interval=HEARTBEAT),
        )
        self.links = {"a": LossyLink(), "i": LossyLink()}
        self.pair.to_acceptor = self.links["a"]
        self.pair.to_initiator = self.links["i"]
        self.sent: dict[str, list[bytes]] = {"i": [], "a": []}
        self.counter = 0
        self.high_water = {"i": (1, 1), "a": (1, 1)}
        self.pair.connect()

    def _side(self, name: str) -> Endpoint:
        return self.pair.initiator if name == "i" else self.pair.acceptor

    def _both_logged_on(self) -> bool:
        return self.pair.initiator.session.is_logged_on and self.pair.acceptor.session.is_logged_on

    @precondition(lambda self: self._both_logged_on())
    @rule(side=st.sampled_from(["i", "a"]), count=st.integers(1, 3))
    def send(self, side: str, count: int) -> None:
        endpoint = self._side(side)
        for _ in range(count):
            if not endpoint.session.is_logged_on:
                return
            self.counter += 1
            msg = _order(self.counter, self.pair.now)
            endpoint.session.send(msg, self.pair.now)
            self.sent[side].append(b"C%d" % self.counter)
            self.pair.pump()

    @rule(direction=st.sampled_from(["a", "i"]), n=st.integers(1, 3))
    def drop_next(self, direction: str, n: int) -> None:
        self.links[direction].drop = n

    @rule(direction=st.sampled_from(["a", "i"]))
    def duplicate_next(self, direction: str) -> None:
        self.links[direction].duplicate = 1

    @rule(seconds=st.sampled_from([1, HEARTBEAT, 2 * HEARTBEAT]))
    def wait(self, seconds: int) -> None:
        self.pair.advance(seconds)

    @rule()
    def cut_connection(self) -> None:
        self.pair.disconnect()

    @precondition(lambda self: self.pair.disconnected())
    @rule(side=st.sampled_from(["i", "a"]))
    def crash_and_restart(self, side: str) -> None:
        self._side(side).restart()

    @precondition(lambda self: self.pair.disconnected())
    @rule()
    def reconnect(self) -> None:
        self.pair.connect()

    @invariant()
    def sequence_numbers_never_go_backwards(self) -> None:
        for name in ("i", "a"):
            s = self._side(name).session
            low_out, low_in = self.high_water[name]
            assert s.next_sender_seq >= low_out, (name, s.next_sender_seq, low_out)
            assert s.next_target_seq >= low_in, (name, s.next_target_seq, low_in)
            self.high_water[name] = (s.next_sender_seq, s.next_target_seq)

    @invariant()
    def never_delivered_twice_or_out_of_order(self) -> None:
        for src, dst in (("i", self.pair.acceptor), ("a", self.pair.initiator)):
            got = [m[Tag.CL_ORD_ID] for m in dst.delivered]
            assert got == self.sent[src][: len(got)], (src, got, self.sent[src])

    def teardown(self) -> None:
        """Heal the link and check that everything sent arrived exactly once, in order."""
        for link in self.links.values():
            link.drop = link.duplicate = 0
        for _ in range(3):
            if not self._both_logged_on():
                if not self.pair.disconnected():
                    self.pair.disconnect()
                self.pair.connect()
            self.pair.advance(2 * HEARTBEAT)
        assert self._both_logged_on()
        for src, dst in (("i", self.pair.acceptor), ("a", self.pair.initiator)):
            got = [m[Tag.CL_ORD_ID] for m in dst.delivered]
            assert got == self.sent[src], (src, got, self.sent[src])


SessionMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSessionMachine = SessionMachine.TestCase
