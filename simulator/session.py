"""One simulator session at run time: its application, its faults and its controls.

The controls are what scripts (the conformance runner's "simulator controls" steps) and tests
call to make a session misbehave; their names and arguments are stable (docs/simulator.md).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol

import trio

from simulator.behaviour import Behaviour, FillModel, RejectRule
from simulator.spec import AppMode, SimSessionSpec
from simulator.wire import Faults, FaultyStream
from trifix.core.errors import LocalProtocolError
from trifix.runtime import SessionHandle, SessionStatistics

if TYPE_CHECKING:
    from trifix.runtime import Engine

__all__ = ["SimSession"]


class SessionApp(Protocol):
    """What serves a session's application messages (`EchoApp`, `LPApp`)."""

    async def serve(self) -> None:
        """Consume the session's events until cancelled."""

    def clear(self) -> None:
        """Forget orders, quotes and subscriptions (a restart that loses state)."""


class SimSession:
    """A running simulator session. Get one with `Simulator.session(id)`.

    Attributes:
        id: the session id.
        spec: what it was configured with.
        handle: the engine's `SessionHandle` (its events belong to the session's application).
        faults: the wire faults armed now.
    """

    def __init__(self, spec: SimSessionSpec, engine: Engine, nursery: trio.Nursery) -> None:
        self.id = spec.id
        self.spec = spec
        self.engine = engine
        self.handle: SessionHandle = engine.session(spec.id)
        self.faults = Faults()
        self.handle.stream_filter = self._faulty
        self._nursery = nursery
        self._behaviour = spec.behaviour
        self._down_until = float("-inf")
        self.app: SessionApp | None = None

    # -- inspection -------------------------------------------------------------------------
    @property
    def app_mode(self) -> AppMode:
        """`AppMode.LP` or `AppMode.ECHO`."""
        return self.spec.app

    @property
    def behaviour(self) -> Behaviour:
        """The behaviour in force."""
        return self._behaviour

    @property
    def is_logged_on(self) -> bool:
        """True while the peer is logged on."""
        return self.handle.is_logged_on

    @property
    def accepting(self) -> bool:
        """False while the session is down after `restart(down_for=...)`."""
        return self.handle.enabled

    def statistics(self) -> SessionStatistics:
        """The engine's statistics of the session (sequence numbers, counters, state)."""
        return self.handle.statistics()

    async def wait_logged_on(self) -> None:
        """Return once the peer is logged on."""
        await self.handle.wait_logged_on()

    # -- controls ---------------------------------------------------------------------------
    def set_behaviour(self, behaviour: Behaviour | None = None, **changes: Any) -> Behaviour:
        """Replace the behaviour, or change some of its fields; returns the new one.

        `changes` are `Behaviour` fields; `fill` may be given as its name ("immediate",
        "resting", "none") and `reject` as a mapping of `RejectRule` fields.

        Raises:
            TypeError: an unknown field.
            ValueError: a value out of range.
        """
        base = behaviour if behaviour is not None else self._behaviour
        if isinstance(changes.get("fill"), str):
            changes["fill"] = FillModel(changes["fill"])
        if isinstance(changes.get("reject"), dict):
            changes["reject"] = RejectRule(**changes["reject"])
        self._behaviour = dataclasses.replace(base, **changes)
        return self._behaviour

    def induce_gap(self, count: int = 1) -> None:
        """Drop the next `count` outbound application messages on the wire.

        They are stored and numbered as usual, so the peer sees a sequence gap on the next
        message that does get through, and recovers them with a ResendRequest.
        """
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        self.faults.drop_app_messages += count

    def drop_heartbeats(self, on: bool = True) -> None:
        """Stop (on=True) or resume (on=False) sending Heartbeats, answers to TestRequest too."""
        self.faults.drop_heartbeats = on

    async def disconnect(self) -> None:
        """Drop the connection now, without a Logout, and return once it is down.

        Nothing happens when the session is not connected.
        """
        connection = self.handle.connection
        if connection is not None:
            await connection.close(grace=0)
            await self.handle.wait_disconnected()

    async def restart(
        self, *, reset_seq: bool = True, clear_state: bool = False, down_for: float = 0.0
    ) -> None:
        """Simulate an LP restart: drop the connection, optionally reset sequence numbers to 1.

        Args:
            reset_seq: start both sequence numbers again at 1 (the stored messages are
                discarded). The peer learns of it when it logs on again: a peer that sends
                ResetSeqNumFlag=Y resumes at once.
            clear_state: forget orders, quotes and subscriptions too, as a restart without
                persistence would.
            down_for: refuse connections for this many seconds after the restart.
        """
        if down_for < 0:
            raise ValueError(f"down_for must be >= 0 seconds, got {down_for}")
        if down_for > 0:  # the engine's acceptor refuses a disabled session's connections
            self.handle.enabled = False
            self._down_until = trio.current_time() + down_for
            self._nursery.start_soon(self._back_up, self._down_until)
        await self.disconnect()
        if reset_seq:
            self.handle.core.reset_sequences("simulator restart")
        if clear_state and self.app is not None:
            self.app.clear()
        self.faults.drop_app_messages = 0

    async def flood(self, rate: float, count: int, symbol: str | None = None) -> int:
        """Send `count` market data updates at `rate` a second to the session's subscriptions.

        Returns once done, with how many were sent (fewer when the peer logs out meanwhile).
        Run it in a nursery to go on with other steps while it floods.

        Raises:
            LocalProtocolError: the session is not an LP, or has no subscription.
        """
        from simulator.lp import LPApp  # the LP imports this module

        if not isinstance(self.app, LPApp):
            raise LocalProtocolError(f"session {self.id} is not an LP: it cannot flood")
        return await self.app.flood(rate, count, symbol)

    # -- connections ------------------------------------------------------------------------
    async def run_connection(self, stream: trio.abc.Stream, peer: str = "in-process") -> None:
        """Run the session over an already connected `stream` (tests, in-process peers) until
        the connection ends or `disconnect` is called. Faults apply as on accepted ones."""
        await self.engine.run_connection(self.id, stream, peer)

    def _faulty(self, stream: trio.abc.Stream) -> trio.abc.Stream:
        return FaultyStream(stream, self.faults)

    async def _back_up(self, at: float) -> None:
        await trio.sleep_until(at)
        if self._down_until == at:  # not pushed back by a later restart
            self.handle.enabled = True
