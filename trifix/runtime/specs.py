"""What the runtime needs to run sessions: endpoints, reconnection, TLS, throttles.

These are plain values; `trifix.config` builds them from YAML, and tests build them directly.
"""

from __future__ import annotations

import random
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from trifix.core.settings import SessionSettings
from trifix.runtime.schedule import Schedule

Clock = Callable[[], datetime]
"""Wall time as an aware UTC datetime (tests map trio's MockClock onto it)."""


def system_clock() -> datetime:
    """The machine's wall clock in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """How an initiator retries after a failed connect or a lost connection.

    Attributes:
        max_attempts: consecutive failed attempts before giving up; None retries forever.
        initial_delay: wait after the first failure.
        max_delay: the longest wait between attempts.
        backoff_factor: each failure multiplies the wait by this.
        jitter: a random fraction (0..jitter) of the wait is added, so many gateways do not
            reconnect in lockstep.
        reset_on_success: a successful logon starts the count (and the wait) over.
    """

    max_attempts: int | None = None
    initial_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=60)
    backoff_factor: float = 2.0
    jitter: float = 0.1
    reset_on_success: bool = True

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after `failures` consecutive failures (1 = the first)."""
        base = self.initial_delay.total_seconds() * self.backoff_factor ** max(0, failures - 1)
        base = min(base, self.max_delay.total_seconds())
        if self.jitter > 0:
            base += base * self.jitter * (rng or random).random()
        return base


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS for one session. Verification is on unless `verify` is False.

    Attributes:
        ca_file: trusted CA bundle (PEM); None uses the system's trust store.
        cert_file, key_file: our certificate chain and key (PEM), required for an acceptor,
            optional for an initiator (client certificates).
        verify: check the peer's certificate (and host name, for an initiator).
        server_hostname: the name to verify against when it differs from the host connected to.
    """

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    verify: bool = True
    server_hostname: str | None = None
    context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)
    """A ready-made context, used as is (tests, or anything the fields cannot express)."""

    def client_context(self) -> ssl.SSLContext:
        """The context an initiator wraps its connection with."""
        if self.context is not None:
            return self.context
        ctx = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert_file is not None:
            ctx.load_cert_chain(str(self.cert_file), str(self.key_file) if self.key_file else None)
        return ctx

    def server_context(self) -> ssl.SSLContext:
        """The context an acceptor wraps accepted connections with."""
        if self.context is not None:
            return self.context
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if self.cert_file is None:
            raise ValueError("an acceptor needs tls.cert_file (and key_file) to serve TLS")
        ctx.load_cert_chain(str(self.cert_file), str(self.key_file) if self.key_file else None)
        if self.ca_file is not None:
            ctx.load_verify_locations(str(self.ca_file))
            ctx.verify_mode = ssl.CERT_REQUIRED if self.verify else ssl.CERT_OPTIONAL
        return ctx


@dataclass(frozen=True, slots=True)
class ThrottleSettings:
    """An outbound rate limit for application messages.

    Attributes:
        rate: messages per second allowed on average.
        burst: how many may go at once after a quiet spell (default: one second's worth).
        on_limit: "wait" makes `send` wait for room; "error" raises `ThrottledError`.
    """

    rate: float
    burst: int | None = None
    on_limit: Literal["wait", "error"] = "wait"


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """One session the engine runs.

    Attributes:
        id: the name applications and the store use (e.g. "LP1").
        settings: the session core's settings (identity, role, protocol options).
        hosts: initiator: (host, port) pairs tried in order for failover. An initiator with
            no hosts is only connected through `Engine.run_connection`.
        schedule: when the session may be connected; sequence numbers reset at each new
            period. The default is non-stop.
        reconnect: the initiator's retry policy.
        tls: TLS settings, or None for plain TCP.
        throttle: outbound rate limit for application messages, or None.
        enabled: a disabled session is configured but not connected.
    """

    id: str
    settings: SessionSettings
    hosts: Sequence[tuple[str, int]] = ()
    schedule: Schedule = field(default_factory=Schedule.non_stop)
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    tls: TlsSettings | None = None
    throttle: ThrottleSettings | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """Everything an engine runs.

    Attributes:
        sessions: the sessions.
        store_path: directory of the LMDB store; None keeps everything in memory (tests).
        store_sync: "durable" fsyncs each group commit; "os" leaves it to the OS.
        listen_host, listen_port: where acceptor sessions listen (one port serves them all);
            port 0 picks a free port (see `Engine.listen_port`); None listens nowhere (acceptor
            sessions are then only connected through `Engine.run_connection`).
        acceptor_tls: TLS for the listening port, or None.
        event_buffer: how many events a session buffers for a slow application before the
            reader waits (back-pressure on the peer).
    """

    sessions: Sequence[SessionSpec]
    store_path: Path | None = None
    store_sync: Literal["durable", "os"] = "durable"
    listen_host: str = "127.0.0.1"
    listen_port: int | None = None
    acceptor_tls: TlsSettings | None = None
    event_buffer: int = 10_000

    def __post_init__(self) -> None:
        ids = [s.id for s in self.sessions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate session ids: {', '.join(dupes)}")
