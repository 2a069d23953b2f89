"""Reading a recorded FIX log and narrating what trifix's session layer makes of it.

The logic behind ``trifix replay LOG`` (the command is in `trifix.tools.replay`).

Two ways through (``--through``):

* ``decoder`` (the default): every message is decoded and validated as `trifix decode` does,
  and each direction of each session is fed to a trifix `Session` core playing the receiver.
  What that core does is printed under the message: the logon it accepts, the gap it detects
  and the ResendRequest it would send, the duplicates it ignores, the Reject or Logout a bad
  message would get, the TestRequest it would send after a silence. Time is the log's (the
  line's timestamp, else SendingTime), so timeouts happen where they happened.
* ``simulator``: the messages one side sent (``--client``, by default the sender of the first
  message) are sent, as recorded, to the bundled simulated LP (`simulator.run_mini_lp`) over an
  in-memory connection, and its answers are printed (see `trifix.tools.replay_sim`).

Logs read: whatever `trifix decode` reads (SOH, ``|`` or ``^A`` delimited, one message a line,
with or without a prefix), which covers trifix's own logs and QuickFIX's
``*.messages.current.log`` (``20240312-09:30:00.000 : 8=FIX.4.4...``). QuickFIX's
``*.event.current.log`` holds session events, not messages, and is refused with a hint.

Each direction's narration starts at the first sequence number the log shows for it (a log
that starts mid-session is not a gap). A direction whose first message is not a Logon is taken
as already logged on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO, Final

from trifix.core.errors import FieldValueError
from trifix.core.events import (
    AppMessageReceived,
    BusinessRejectSent,
    Disconnected,
    DuplicateIgnored,
    Event,
    GapDetected,
    GapFilled,
    GarbledMessageIgnored,
    LoggedOn,
    LogoutReceived,
    PeerTimedOut,
    RejectReceived,
    RejectSent,
    ResendRequested,
    SequenceResetReceived,
    SequencesReset,
    TestRequestSent,
)
from trifix.core.fields import parse_utc_timestamp
from trifix.core.message import Message
from trifix.core.session import Session
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.core.validate import REASON_TEXT, Validator
from trifix.tools.decode import Decoded, LogScanner, decode

__all__ = [
    "EVENT_LOG_HINT",
    "Entry",
    "Narrator",
    "ReplayTally",
    "entry_time",
    "is_event_log",
    "read_log",
]

EVENT_LOG_HINT: Final = (
    "this is a QuickFIX event log (session events, not messages); give the matching "
    "*.messages.current.log"
)
_EVENT_LOG_NAME: Final = re.compile(r"\.event(\.current)?\.log$")
_LABEL_TIME: Final = re.compile(rb"[0-9]{8}-[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?")


@dataclass(frozen=True, slots=True)
class Entry:
    """One frame of the log with the time it happened.

    Attributes:
        decoded: the frame decoded (and validated, when asked), as `trifix decode` shows it.
        time: the line's timestamp, else the message's SendingTime, else the previous entry's
            time (None only before any time is known).
    """

    decoded: Decoded
    time: datetime | None


def is_event_log(name: str) -> bool:
    """True for QuickFIX's session event log file names (``*.event.current.log``)."""
    return _EVENT_LOG_NAME.search(name) is not None


def entry_time(d: Decoded) -> datetime | None:
    """The time of a frame: its label's ``YYYYMMDD-HH:MM:SS[.fff]``, else its SendingTime."""
    match = _LABEL_TIME.search(d.label.encode("ascii", "replace"))
    if match is not None:
        try:
            return parse_utc_timestamp(match[0])
        except (FieldValueError, ValueError):
            pass
    if d.message is not None:
        try:
            return d.message.get_utc_timestamp(Tag.SENDING_TIME, None)
        except FieldValueError:
            return None
    return None


def read_log(
    stream: BinaryIO | Iterable[bytes], *, validate: bool = True, scanner: LogScanner | None = None
) -> Iterator[Entry]:
    """Every frame of a log, decoded (validated unless `validate` is false), with its time."""
    last: datetime | None = None
    validator = Validator() if validate else None
    for d in decode(stream, validator=validator, scanner=scanner):
        last = entry_time(d) or last
        yield Entry(d, last)


# -- the narrative ---------------------------------------------------------------------------
@dataclass(slots=True)
class ReplayTally:
    """What the replay found, for the summary line and the exit code."""

    messages: int = 0
    garbled: int = 0
    invalid: int = 0
    gaps: int = 0
    resend_requests: int = 0
    rejects: int = 0
    duplicates: int = 0
    disconnects: int = 0

    @property
    def clean(self) -> bool:
        """True when the session would have run without a gap, reject or garbled frame."""
        return not (self.garbled or self.invalid or self.gaps or self.rejects)

    def __str__(self) -> str:
        parts = [f"{self.messages} messages"]
        for count, what in (
            (self.garbled, "garbled"),
            (self.invalid, "invalid"),
            (self.gaps, "gap"),
            (self.resend_requests, "resend request"),
            (self.rejects, "reject"),
            (self.duplicates, "duplicate"),
            (self.disconnects, "disconnect"),
        ):
            plural = "" if count == 1 or what in ("garbled", "invalid") else "s"
            parts.append(f"{count} {what}{plural}")
        return ", ".join(parts)


@dataclass(slots=True)
class _Direction:
    """The receiving end of one direction (sender → target) of a session."""

    session: Session
    receiver: str
    sender: str
    narrating: bool = True


@dataclass(slots=True)
class Narrator:
    """Feeds each direction of each session to a trifix `Session` playing its receiver.

    Call `feed` for every `Entry` in log order; it returns the narrative lines for that entry.
    """

    tally: ReplayTally = field(default_factory=ReplayTally)
    _directions: dict[tuple[str, str], _Direction] = field(default_factory=dict)
    _seen_senders: set[str] = field(default_factory=set)
    _heartbeat: dict[frozenset[str], int] = field(default_factory=dict)

    def feed(self, entry: Entry) -> list[str]:
        """Narrate one frame of the log."""
        d = entry.decoded
        if d.garbled is not None:
            self.tally.garbled += 1
            return [f"garbled frame ignored ({d.garbled.reason}); the next message shows the gap"]
        msg = d.message
        assert msg is not None
        self.tally.messages += 1
        lines: list[str] = []
        if d.error is not None:
            self.tally.invalid += 1
        sender = msg.get_str(Tag.SENDER_COMP_ID, "")
        target = msg.get_str(Tag.TARGET_COMP_ID, "")
        now = entry.time or datetime.now(UTC)
        if msg.msg_type == MsgType.LOGON:
            hb = msg.get_int(Tag.HEART_BT_INT, None)
            if hb is not None:
                self._heartbeat.setdefault(frozenset((sender, target)), hb)
        direction = self._directions.get((sender, target))
        if direction is None:
            direction = self._start(msg, sender, target, now, lines)
            self._directions[(sender, target)] = direction
        self._seen_senders.add(sender)
        for other in self._directions.values():  # time passes for every session
            if other.narrating:
                lines += self._timers(other, now)
        if msg.msg_type == MsgType.RESEND_REQUEST:
            self.tally.resend_requests += 1
            begin = msg.get_str(Tag.BEGIN_SEQ_NO, "?")
            end = msg.get_str(Tag.END_SEQ_NO, "?")
            upto = "infinity" if end == "0" else end
            lines.append(f"{sender} asks {target} to resend {begin}..{upto}")
        if not direction.narrating:
            return lines
        session = direction.session
        if not session.is_connected:
            if msg.msg_type != MsgType.LOGON:
                lines.append(
                    f"{target} is not connected (after a disconnect): a message before a new "
                    "Logon is not narrated"
                )
                return lines
            session.connection_made(now)
        session.receive_data(msg.raw or msg.encode(), now)
        lines += self._describe(direction, session.events())
        session.data_to_send()
        session.store_update()
        return lines

    def _start(
        self, msg: Message, sender: str, target: str, now: datetime, lines: list[str]
    ) -> _Direction:
        # The receiver initiated if it spoke first.
        role = Role.INITIATOR if target in self._seen_senders else Role.ACCEPTOR
        hb = self._heartbeat.get(frozenset((sender, target)), 30)
        settings = SessionSettings(
            target,
            sender,
            role,
            begin_string=msg.begin_string.decode("ascii", "replace"),
            heartbeat_interval=hb,
            check_latency=False,  # the log's clocks are what they were; the session's is not
        )
        try:
            first = msg.seq_num
        except FieldValueError:
            first = 1
        is_logon = msg.msg_type == MsgType.LOGON
        start_at = max(first - (0 if is_logon else 1), 1)
        session = Session(settings, next_target_seq=start_at)
        direction = _Direction(session, receiver=target, sender=sender)
        if is_logon:
            lines.append(
                f"{sender} -> {target}: narrated from seq {first} ({target} as {role.value})"
            )
            return direction
        if first < 2:
            lines.append(
                f"{sender} -> {target}: the log starts without a Logon at seq 1; this direction "
                "is narrated from its next Logon"
            )
            direction.narrating = False
            return direction
        # Mid-session: log the receiver on with a synthetic Logon just below the first seq.
        session.connection_made(now)
        logon = Message.new(
            MsgType.LOGON,
            (Tag.MSG_SEQ_NUM, first - 1),
            (Tag.SENDER_COMP_ID, sender),
            (Tag.TARGET_COMP_ID, target),
            (Tag.SENDING_TIME, now),
            (Tag.ENCRYPT_METHOD, 0),
            (Tag.HEART_BT_INT, hb),
        )
        session.receive_data(logon.encode(settings.begin_string.encode()), now)
        session.events()
        session.data_to_send()
        session.store_update()
        lines.append(
            f"{sender} -> {target}: the log starts mid-session; narrated from seq {first} "
            f"as if logged on"
        )
        return direction

    def _timers(self, direction: _Direction, now: datetime) -> list[str]:
        session = direction.session
        lines: list[str] = []
        deadline = session.next_deadline()
        while deadline is not None and deadline <= now and session.is_connected:
            session.handle_timer(deadline)
            lines += self._describe(direction, session.events(), at=deadline)
            session.data_to_send()
            session.store_update()
            nxt = session.next_deadline()
            if nxt == deadline:  # pragma: no cover - a core that does not move its deadline
                break
            deadline = nxt
        return lines

    def _describe(
        self, direction: _Direction, events: list[Event], at: datetime | None = None
    ) -> list[str]:
        me, peer = direction.receiver, direction.sender
        when = f" at {at:%H:%M:%S}" if at is not None else ""
        lines: list[str] = []
        for event in events:
            text = self._line(event, me, peer)
            if text is not None:
                lines.append(text + when)
        return lines

    def _line(self, event: Event, me: str, peer: str) -> str | None:
        t = self.tally
        match event:
            case LoggedOn(heartbeat_interval=hb, reset=reset):
                extra = ", sequence numbers reset" if reset else ""
                return f"{me}: logon with {peer} complete (HeartBtInt {hb}{extra})"
            case GapDetected(expected=expected, received=received, begin=begin, end=end):
                t.gaps += 1
                return (
                    f"{me}: GAP: expected seq {expected} from {peer}, got {received}; "
                    f"{me} would send ResendRequest BeginSeqNo={begin} EndSeqNo={end}"
                )
            case GapFilled(next_expected=nxt):
                return f"{me}: gap filled; next expected from {peer}: {nxt}"
            case ResendRequested(begin=begin, end=end):  # the Logon's NextExpectedMsgSeqNum
                return f"{me}: would resend {begin}..{end} to {peer}"
            case SequenceResetReceived(new_seq=new_seq, gap_fill=gap_fill):
                kind = "GapFill" if gap_fill else "Reset"
                return f"{me}: SequenceReset-{kind} from {peer}: next seq {new_seq}"
            case SequencesReset(reason=reason):
                return f"{me}: sequence numbers reset ({reason})"
            case RejectSent(ref_seq=ref_seq, reason=reason, ref_tag=ref_tag, text=text):
                t.rejects += 1
                why = REASON_TEXT.get(reason, reason.name)
                tag = f", tag {ref_tag}" if ref_tag is not None else ""
                return f"{me}: would REJECT seq {ref_seq} of {peer}: 373={int(reason)} {why}{tag}"
            case BusinessRejectSent(ref_seq=ref_seq, reason=reason, text=text):
                t.rejects += 1
                return f"{me}: would send BusinessMessageReject for seq {ref_seq}: {text}"
            case RejectReceived(ref_seq=ref_seq, reason=reason, text=text):
                t.rejects += 1
                why = f" 373={reason}" if reason is not None else ""
                said = f": {text}" if text else ""
                return f"{me}: {peer} REJECTED {me}'s seq {ref_seq}{why}{said}"
            case DuplicateIgnored(seq=seq):
                t.duplicates += 1
                return f"{me}: duplicate seq {seq} (PossDupFlag=Y) ignored"
            case AppMessageReceived(poss_dup=True):
                return f"{me}: resent message delivered (PossDupFlag=Y)"
            case GarbledMessageIgnored(reason=reason):  # pragma: no cover - framed upstream
                return f"{me}: garbled data ignored ({reason})"
            case TestRequestSent(test_req_id=req):
                return f"{me}: {peer} silent too long; {me} would send TestRequest {req}"
            case PeerTimedOut():
                return f"{me}: {peer} did not answer the TestRequest: timed out"
            case LogoutReceived(text=text, solicited=solicited):
                why = f" ({text})" if text else ""
                return f"{me}: Logout from {peer}{why}" + ("" if solicited else "; answered")
            case Disconnected(reason=reason, error=error):
                t.disconnects += 1
                kind = "DISCONNECT" if error else "disconnect"
                return f"{me}: would {kind}: {reason}"
        return None
