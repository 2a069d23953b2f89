"""Session settings: who we are, who the peer is, and the session-layer options.

Option names follow QuickFIX's where one exists (docs/configuration.md maps them):
ResetOnLogon, ResetOnLogout, ResetOnDisconnect, RefreshOnLogon, PersistMessages,
ResendRequestChunkSize, SendRedundantResendRequests, CheckLatency, MaxLatency, LogonTimeout,
LogoutTimeout, EnableLastMsgSeqNumProcessed, EnableNextExpectedMsgSeqNum, CheckCompID,
TestRequestDelayMultiplier, and the validation options of `ValidationOptions`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta

from trifix.core.errors import LocalProtocolError
from trifix.core.validate import ValidationOptions


class Role(enum.Enum):
    """Which side opens the connection and sends the first Logon."""

    INITIATOR = "initiator"
    """Connects and sends the first Logon."""
    ACCEPTOR = "acceptor"
    """Listens, and answers the peer's Logon."""


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Everything the session core needs to know about one FIX session.

    Attributes:
        sender_comp_id: our SenderCompID (49).
        target_comp_id: the peer's CompID, our TargetCompID (56).
        role: initiator or acceptor.
        begin_string: BeginString (8) of the session.
        heartbeat_interval: HeartBtInt (108) we ask for as initiator, in seconds; an acceptor
            takes the initiator's value from its Logon. 0 disables heartbeats.
        test_request_delay_multiplier: a TestRequest goes out after
            heartbeat_interval * (1 + this) of silence from the peer, and the peer is declared
            dead after as long again without an answer (QuickFIX: TestRequestDelayMultiplier).
        logon_timeout: how long to wait for the Logon answer (initiator) or the first Logon
            (acceptor) before disconnecting.
        logout_timeout: how long to wait for the Logout answer before disconnecting.
        reset_on_logon: ResetSeqNumFlag (141=Y) on every Logon; reset both sequences.
        reset_on_logout: reset both sequences after a completed Logout exchange.
        reset_on_disconnect: reset both sequences whenever the connection ends.
        refresh_on_logon: the runtime reloads sequence numbers from the store before each Logon.
        persist_messages: store sent application messages so resends replay them; when off,
            a ResendRequest is answered with a SequenceReset-GapFill for the whole range.
        resend_request_chunk_size: ask for at most this many messages per ResendRequest
            (0: ask for everything with EndSeqNo=0).
        send_redundant_resend_requests: send a new ResendRequest for a range already asked for.
        resend_request_timeout: when an outstanding ResendRequest of ours brings nothing for
            this long, it is sent again from the first missing sequence number (a request or
            its answer can be lost or ignored; without this the session would wait forever).
        check_latency: reject messages whose SendingTime is further than max_latency from now.
        max_latency: see check_latency.
        check_comp_id: check the peer's SenderCompID/TargetCompID on every message.
        enable_last_msg_seq_num_processed: put LastMsgSeqNumProcessed (369) in every header.
        enable_next_expected_msg_seq_num: send NextExpectedMsgSeqNum (789) on Logon and act on
            the peer's.
        username, password: Username (553) / Password (554) our Logon carries (initiator), or
            that the peer's Logon must carry (acceptor), when set.
        supported_app_msg_types: application MsgTypes the application handles; others are
            answered with BusinessMessageReject reason 3. None accepts every valid type.
        validation: dictionary validation options.
        validate: validate received messages against the dictionary at all.
        max_stashed_messages: how many messages above a sequence gap are kept for processing
            once the gap is filled; beyond it they are dropped and asked for again.
        timestamp_precision: fractional digits of SendingTime we write (0, 3 or 6).
    """

    sender_comp_id: str
    target_comp_id: str
    role: Role = Role.INITIATOR
    begin_string: str = "FIX.4.4"
    heartbeat_interval: int = 30
    test_request_delay_multiplier: float = 0.5
    logon_timeout: timedelta = timedelta(seconds=10)
    logout_timeout: timedelta = timedelta(seconds=2)
    reset_on_logon: bool = False
    reset_on_logout: bool = False
    reset_on_disconnect: bool = False
    refresh_on_logon: bool = False
    persist_messages: bool = True
    resend_request_chunk_size: int = 0
    send_redundant_resend_requests: bool = False
    resend_request_timeout: timedelta = timedelta(seconds=10)
    check_latency: bool = True
    max_latency: timedelta = timedelta(seconds=120)
    check_comp_id: bool = True
    enable_last_msg_seq_num_processed: bool = False
    enable_next_expected_msg_seq_num: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    supported_app_msg_types: frozenset[str] | None = None
    validation: ValidationOptions = field(default_factory=ValidationOptions)
    validate: bool = True
    max_stashed_messages: int = 100_000
    timestamp_precision: int = 3

    def __post_init__(self) -> None:
        if not self.sender_comp_id or not self.target_comp_id:
            raise LocalProtocolError("sender_comp_id and target_comp_id must not be empty")
        if self.heartbeat_interval < 0:
            raise LocalProtocolError("heartbeat_interval must be >= 0 seconds")
        if self.resend_request_chunk_size < 0:
            raise LocalProtocolError("resend_request_chunk_size must be >= 0")
        if self.timestamp_precision not in (0, 3, 6):
            raise LocalProtocolError("timestamp_precision must be 0, 3 or 6")
        if self.test_request_delay_multiplier < 0:
            raise LocalProtocolError("test_request_delay_multiplier must be >= 0")

    @property
    def session_id(self) -> str:
        """A readable identity: ``FIX.4.4:SENDER->TARGET``."""
        return f"{self.begin_string}:{self.sender_comp_id}->{self.target_comp_id}"
