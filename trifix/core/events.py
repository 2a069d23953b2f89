"""What the session core tells its driver: events are facts, named in the past tense.

The runtime (or a test) reads them with `Session.events()` after each call that can produce
them. Application messages arrive as `AppMessageReceived`; everything else reports the
session's life so it can be logged, counted and acted on. `Disconnected` is the instruction to
close the transport (after writing what `Session.data_to_send()` still holds).
"""

from __future__ import annotations

from dataclasses import dataclass

from trifix.core.message import Message
from trifix.core.tags import SessionRejectReason


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every session event."""


@dataclass(frozen=True, slots=True)
class LogonSent(Event):
    """We sent a Logon (initiator: the first one; acceptor: the answer)."""

    seq: int
    reset: bool


@dataclass(frozen=True, slots=True)
class LoggedOn(Event):
    """The Logon exchange completed: the session is active."""

    heartbeat_interval: int
    reset: bool
    """True when sequence numbers were reset by ResetSeqNumFlag (141=Y)."""


@dataclass(frozen=True, slots=True)
class AppMessageReceived(Event):
    """An application message, in sequence, for the application.

    `poss_dup` is set for a message resent by the peer (PossDupFlag=Y) that the session had
    not seen yet; `poss_resend` (PossResend=Y) asks the application to check its own
    identifiers (e.g. ClOrdID) before acting, since the peer may have sent it before under
    another sequence number.
    """

    message: Message
    poss_dup: bool = False
    poss_resend: bool = False


@dataclass(frozen=True, slots=True)
class AdminMessageReceived(Event):
    """A session-level message was processed (for logs and metrics)."""

    message: Message


@dataclass(frozen=True, slots=True)
class RejectReceived(Event):
    """The peer rejected one of our messages (35=3); delivered, not answered."""

    message: Message
    ref_seq: int | None
    reason: int | None
    text: str | None


@dataclass(frozen=True, slots=True)
class GapDetected(Event):
    """The peer's sequence jumped: we sent a ResendRequest for [begin, end] (end 0: all)."""

    expected: int
    received: int
    begin: int
    end: int


@dataclass(frozen=True, slots=True)
class GapFilled(Event):
    """Every message up to `next_expected` - 1 has now been received and processed."""

    next_expected: int


@dataclass(frozen=True, slots=True)
class ResendRequested(Event):
    """The peer asked for [begin, end] again. The driver replays from its store with
    `Session.replay` (or `begin_replay`/`feed`/`finish` to stream large ranges)."""

    begin: int
    end: int


@dataclass(frozen=True, slots=True)
class SequenceResetReceived(Event):
    """The peer moved our expected inbound sequence number."""

    new_seq: int
    gap_fill: bool


@dataclass(frozen=True, slots=True)
class SequencesReset(Event):
    """Both sequence numbers went back to 1; the driver resets the store (see
    `Session.store_update`)."""

    reason: str


@dataclass(frozen=True, slots=True)
class RejectSent(Event):
    """We answered a message with a session-level Reject (35=3)."""

    ref_seq: int
    reason: SessionRejectReason
    ref_tag: int | None
    text: str


@dataclass(frozen=True, slots=True)
class BusinessRejectSent(Event):
    """We answered an application message with a BusinessMessageReject (35=j)."""

    ref_seq: int
    ref_msg_type: str
    reason: int
    text: str


@dataclass(frozen=True, slots=True)
class DuplicateIgnored(Event):
    """A PossDup message we had already processed (its sequence number is below expected)."""

    seq: int
    msg_type: str


@dataclass(frozen=True, slots=True)
class GarbledMessageIgnored(Event):
    """Bytes that did not frame as FIX; ignored, no sequence number consumed."""

    reason: str
    data: bytes


@dataclass(frozen=True, slots=True)
class TestRequestSent(Event):
    """The peer was silent too long; we sent a TestRequest."""

    test_req_id: str


@dataclass(frozen=True, slots=True)
class HeartbeatSent(Event):
    """We sent a Heartbeat (on our own schedule, or answering a TestRequest)."""

    test_req_id: str | None


@dataclass(frozen=True, slots=True)
class PeerTimedOut(Event):
    """The peer did not answer our TestRequest in time."""


@dataclass(frozen=True, slots=True)
class LogoutReceived(Event):
    """The peer sent Logout (an answer to ours, or its own initiative)."""

    text: str | None
    solicited: bool


@dataclass(frozen=True, slots=True)
class LogoutSent(Event):
    """We sent Logout."""

    text: str | None


@dataclass(frozen=True, slots=True)
class Disconnected(Event):
    """Close the transport now (after writing pending data); the session is disconnected."""

    reason: str
    error: bool = False
    """True when the disconnect is due to a fault (timeout, protocol error), not a logout."""
