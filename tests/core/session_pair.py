"""A `SessionPair`: an initiator and an acceptor session core wired together in memory.

It plays the runtime's part without trio or sockets: stores what each side's
`store_update()` asks (in a real `MemoryStore`) *before* delivering its bytes, answers
`ResendRequested` from the store through `Session.replay`, drives timers on a fake clock, and
carries bytes between the two sides through a link that tests can make lossy.

`DirectSession` is the other half: one core driven by a test that plays the counterparty itself
with hand-built frames (`raw_frame`), for cases where the exact bytes the peer sends matter.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from trifix.core.events import AppMessageReceived, Disconnected, Event, ResendRequested
from trifix.core.message import Message
from trifix.core.session import Session
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.store import MemoryStore, SessionUpdate

T0 = datetime(2026, 11, 25, 9, 0, 0, tzinfo=UTC)

# A link filter sees each frame in flight and returns what to deliver instead (0..n frames).
LinkFilter = Callable[[bytes], list[bytes]]


class FakeClock:
    """Wall time for the session cores: starts at T0 and moves only when told."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Endpoint:
    """One side: its session core, its store, and everything it produced."""

    name: str
    settings: SessionSettings
    store: MemoryStore
    clock: FakeClock
    session: Session = field(init=False)
    events: list[Event] = field(default_factory=list)
    delivered: list[Message] = field(default_factory=list)
    outbox: list[bytes] = field(default_factory=list)
    sent_frames: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store.open_session(self.name, self.clock.now)
        self.session = self._new_session()

    def _new_session(self) -> Session:
        seqs = self.store.sequences(self.name)
        return Session(
            self.settings,
            next_sender_seq=seqs.next_sender_seq,
            next_target_seq=seqs.next_target_seq,
        )

    def restart(self) -> None:
        """A crash and restart: the core is rebuilt from the store; nothing else survives."""
        self.outbox.clear()
        self.session = self._new_session()

    def collect(self) -> None:
        """Handle the core's events, persist its store update, then take its bytes."""
        now = self.clock.now
        while True:
            events = self.session.events()
            if not events:
                break
            for event in events:
                self.events.append(event)
                if isinstance(event, AppMessageReceived):
                    self.delivered.append(event.message)
                elif isinstance(event, ResendRequested) and self.session.is_connected:
                    self._persist()
                    stored = self.store.get_range(self.name, event.begin, event.end)
                    self.session.replay(event.begin, event.end, stored, now)
        self._persist()
        frames = self.session.data_to_send()
        self.sent_frames.extend(frames)
        self.outbox.extend(frames)

    def _persist(self) -> None:
        update = self.session.store_update()
        if update is None:
            return
        if update.reset:
            self.store.reset(self.name, self.clock.now)
        self.store.write(
            [
                SessionUpdate(
                    self.name,
                    update.messages,
                    update.next_sender_seq,
                    update.next_target_seq,
                )
            ]
        )

    def events_of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]

    def sent_types(self) -> list[str]:
        return [Message.from_frame(f).msg_type for f in self.sent_frames]


class SessionPair:
    """An initiator (GW -> LP) and an acceptor (LP -> GW) talking over an in-memory link."""

    def __init__(
        self,
        initiator: SessionSettings | None = None,
        acceptor: SessionSettings | None = None,
        clock: FakeClock | None = None,
    ) -> None:
        self.clock = clock or FakeClock()
        init = initiator or SessionSettings("GW", "LP", Role.INITIATOR, heartbeat_interval=30)
        acc = acceptor or SessionSettings("LP", "GW", Role.ACCEPTOR, heartbeat_interval=30)
        self.initiator = Endpoint("GW-LP", init, MemoryStore(), self.clock)
        self.acceptor = Endpoint("LP-GW", acc, MemoryStore(), self.clock)
        self.to_acceptor: LinkFilter | None = None
        self.to_initiator: LinkFilter | None = None

    @property
    def now(self) -> datetime:
        return self.clock.now

    def connect(self) -> None:
        """Open a connection and let the Logon exchange (and any recovery) run."""
        self.acceptor.session.connection_made(self.now)
        self.initiator.session.connection_made(self.now)
        self.pump()

    def logon(self) -> None:
        self.connect()
        assert self.initiator.session.is_logged_on, self.initiator.events
        assert self.acceptor.session.is_logged_on, self.acceptor.events

    def pump(self, max_rounds: int = 10_000) -> None:
        """Move bytes both ways until nothing is in flight."""
        for _ in range(max_rounds):
            self.initiator.collect()
            self.acceptor.collect()
            moved = self._deliver(self.initiator, self.acceptor, self.to_acceptor)
            moved |= self._deliver(self.acceptor, self.initiator, self.to_initiator)
            self._close_if_disconnected()
            if not moved:
                return
        raise AssertionError("the pair never went quiet")

    def _deliver(self, src: Endpoint, dst: Endpoint, link: LinkFilter | None) -> bool:
        if not src.outbox:
            return False
        frames, src.outbox = src.outbox, []
        for frame in frames:
            for data in link(frame) if link else [frame]:
                if dst.session.is_connected:
                    dst.session.receive_data(data, self.now)
        return True

    def _close_if_disconnected(self) -> None:
        """A side that decided to disconnect closes the transport: the other sees EOF."""
        for side, other in ((self.initiator, self.acceptor), (self.acceptor, self.initiator)):
            if not side.session.is_connected and other.session.is_connected:
                side.collect()
                self._deliver(side, other, None)
                other.session.receive_data(b"", self.now)
                other.collect()

    def send(self, side: Endpoint, msg: Message) -> int:
        seq = side.session.send(msg, self.now)
        self.pump()
        return seq

    def advance(self, seconds: float) -> None:
        """Move the clock forward, firing every timer that falls due on the way."""
        end = self.now + timedelta(seconds=seconds)
        while True:
            deadlines = [
                d
                for d in (
                    self.initiator.session.next_deadline(),
                    self.acceptor.session.next_deadline(),
                )
                if d is not None and d <= end
            ]
            if not deadlines:
                break
            self.clock.now = max(self.now, min(deadlines))
            self.initiator.session.handle_timer(self.now)
            self.acceptor.session.handle_timer(self.now)
            self.pump()
        self.clock.now = end

    def disconnect(self) -> None:
        """The link drops: both sides see the connection end."""
        for side in (self.initiator, self.acceptor):
            side.outbox.clear()
            side.session.connection_lost(self.now)
            side.collect()
            side.outbox.clear()

    def disconnected(self) -> bool:
        return not self.initiator.session.is_connected and not self.acceptor.session.is_connected

    @staticmethod
    def disconnect_reasons(side: Endpoint) -> list[str]:
        return [e.reason for e in side.events if isinstance(e, Disconnected)]


def settings(role: Role, **options: object) -> SessionSettings:
    """Settings for GW (initiator) or LP (acceptor), with options overridden."""
    base = (
        SessionSettings("GW", "LP", Role.INITIATOR)
        if role is Role.INITIATOR
        else SessionSettings("LP", "GW", Role.ACCEPTOR)
    )
    return replace(base, **options)  # type: ignore[arg-type]


# -- one session driven directly, the test playing the counterparty ------------------------------


def _wire(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return b"Y" if value else b"N"
    if isinstance(value, datetime):
        return b"%s.%03d" % (value.strftime("%Y%m%d-%H:%M:%S").encode(), value.microsecond // 1000)
    if isinstance(value, enum.Enum):
        return str(value.value).encode()
    return str(value).encode()


def raw_frame(fields: Iterable[tuple[int, object]], begin_string: bytes = b"FIX.4.4") -> bytes:
    """A frame around `fields` (MsgType first), BodyLength and CheckSum computed by plain
    arithmetic; fields go out exactly as given, so tests can write what the encoder would not."""
    body = b"".join(b"%d=%b\x01" % (tag, _wire(value)) for tag, value in fields)
    head = b"8=%b\x019=%d\x01" % (begin_string, len(body))
    return head + body + b"10=%03d\x01" % (sum(head + body) % 256)


class DirectSession:
    """One session core (GW initiator or LP acceptor, as `settings` builds them) and a fake
    counterparty: the test writes the peer's frames, reads what the core sent and its events.

    Stored messages from `store_update()` are kept in `stored` so resends can be replayed.
    """

    def __init__(
        self,
        role: Role,
        *,
        clock: FakeClock | None = None,
        next_sender_seq: int = 1,
        next_target_seq: int = 1,
        **options: object,
    ) -> None:
        self.clock = clock or FakeClock()
        self.settings = settings(role, **options)
        self.session = Session(
            self.settings, next_sender_seq=next_sender_seq, next_target_seq=next_target_seq
        )
        self.peer_seq = next_target_seq
        """The MsgSeqNum the next peer frame gets unless one is given."""
        self.stored: dict[int, bytes] = {}

    @property
    def now(self) -> datetime:
        return self.clock.now

    def frame(
        self,
        msg_type: str,
        *body: tuple[int, object],
        seq: int | None = None,
        sending_time: datetime | bytes | None = None,
        header: Iterable[tuple[int, object]] = (),
        sender: str | None = None,
        target: str | None = None,
        begin_string: bytes = b"FIX.4.4",
    ) -> bytes:
        """A frame from the peer: 35, 49, 56, 34, 52, then `header`, then `body`.

        Without `seq` it takes `peer_seq` and advances it.
        """
        if seq is None:
            seq = self.peer_seq
            self.peer_seq += 1
        fields: list[tuple[int, object]] = [
            (35, msg_type),
            (49, sender if sender is not None else self.settings.target_comp_id),
            (56, target if target is not None else self.settings.sender_comp_id),
            (34, seq),
            (52, sending_time if sending_time is not None else self.now),
            *header,
            *body,
        ]
        return raw_frame(fields, begin_string)

    def receive(self, msg_type: str, *body: tuple[int, object], **kwargs: object) -> None:
        """Build a peer frame (see `frame`) and feed it to the session."""
        self.feed(self.frame(msg_type, *body, **kwargs))  # type: ignore[arg-type]

    def feed(self, data: bytes) -> None:
        self.session.receive_data(data, self.now)

    def events(self) -> list[Event]:
        return self.session.events()

    def sent(self) -> list[Message]:
        """Persist the store update, then parse and return the frames the session wrote."""
        update = self.session.store_update()
        if update is not None:
            if update.reset:
                self.stored.clear()
            self.stored.update(update.messages)
        return [Message.from_frame(f) for f in self.session.data_to_send()]

    def replay(self, begin: int, end: int) -> list[Message]:
        """Answer a ResendRequest for [begin, end] from `stored`; return what went out."""
        self.sent()
        last = end if end else max(self.stored, default=0)
        stored = [(s, self.stored[s]) for s in sorted(self.stored) if begin <= s <= last]
        self.session.replay(begin, end, stored, self.now)
        return self.sent()

    def connect(self) -> None:
        self.session.connection_made(self.now)

    def logon(self, *body: tuple[int, object], heartbeat_interval: int = 30) -> None:
        """Connect and complete the Logon exchange with the peer's Logon; drop the output."""
        self.connect()
        self.receive("A", (98, 0), (108, heartbeat_interval), *body)
        assert self.session.is_logged_on, self.events()
        self.events()
        self.sent()

    def advance(self, seconds: float) -> None:
        """Move the clock forward, calling `handle_timer` at every deadline on the way."""
        end = self.now + timedelta(seconds=seconds)
        for _ in range(10_000):
            deadline = self.session.next_deadline()
            if deadline is None or deadline > end:
                break
            self.clock.now = max(self.now, deadline)
            self.session.handle_timer(self.now)
        else:
            raise AssertionError("the session's timers never settled")
        self.clock.now = end


ROLES = pytest.mark.parametrize("role", [Role.INITIATOR, Role.ACCEPTOR], ids=lambda r: r.value)
"""Run a test once for each role."""


def news_body(headline: str) -> tuple[tuple[int, object], ...]:
    """The body of a minimal valid News (B): a handy application message for session tests."""
    return ((Tag.HEADLINE, headline), (Tag.NO_LINES_OF_TEXT, 1), (Tag.TEXT, "line"))


def news_message(headline: str) -> Message:
    """A minimal valid News (B) to send."""
    msg = Message.new(MsgType.NEWS, (Tag.HEADLINE, headline))
    return msg.add_group(Tag.NO_LINES_OF_TEXT, [[(Tag.TEXT, "line")]])
