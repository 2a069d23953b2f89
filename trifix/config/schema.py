"""The configuration file's schema: frozen attrs classes, one per block of the YAML.

Field names are the YAML keys (docs/configuration.md documents each). Defaults of the
session-layer options are read from `SessionSettings`, `ValidationOptions` and `ReconnectPolicy`,
so a key left out means exactly what the engine does by default. Every class checks its own
values when built and raises `InvalidValue` naming the key at fault; `trifix.config.load` turns
that into a message with the file, line and column.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from trifix.config import _validators as valid
from trifix.config.errors import InvalidValue
from trifix.core.settings import SessionSettings
from trifix.core.validate import ValidationOptions
from trifix.runtime.schedule import Schedule
from trifix.runtime.specs import ReconnectPolicy

__all__ = [
    "LOG_LEVELS",
    "BreakerConfig",
    "FixOptions",
    "GatewayConfig",
    "HostPort",
    "InstrumentConfig",
    "LimitsConfig",
    "LiquidityProviderConfig",
    "ListenConfig",
    "MetricsConfig",
    "ReconnectionConfig",
    "SessionConfig",
    "StoreConfig",
    "TlsConfig",
    "TradingConfig",
    "TradingHours",
    "ValidationConfig",
    "WebConfig",
    "WeeklyHours",
]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_SETTINGS = SessionSettings("SENDER", "TARGET")
_VALIDATION = ValidationOptions()
_RECONNECT = ReconnectPolicy()


@attrs.frozen(kw_only=True)
class StoreConfig:
    """`store:` where sequence numbers and sent messages are kept (LMDB)."""

    path: str | None = "fixstore"
    sync: Literal["durable", "os"] = "durable"


@attrs.frozen(kw_only=True)
class TlsConfig:
    """`ssl:` of a session, `tls:` of `listen`: certificates and verification."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True
    server_hostname: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.key_file is not None and self.cert_file is None:
            raise InvalidValue(
                "key_file needs cert_file, the certificate it goes with", key=("key_file",)
            )


@attrs.frozen(kw_only=True)
class ListenConfig:
    """`listen:` the one port every acceptor session is reached on."""

    port: int = attrs.field(validator=valid.between(0, 65535))
    host: str = attrs.field(default="127.0.0.1", validator=valid.name)
    tls: TlsConfig | None = None

    def __attrs_post_init__(self) -> None:
        if self.tls is not None and self.tls.cert_file is None:
            raise InvalidValue(
                "a listening port needs a certificate to serve TLS", key=("tls", "cert_file")
            )


@attrs.frozen(kw_only=True)
class MetricsConfig:
    """`metrics:` the metrics endpoint."""

    enabled: bool = False
    port: int = attrs.field(default=9090, validator=valid.between(1, 65535))


@attrs.frozen(kw_only=True)
class HostPort:
    """One item of a session's `hosts:` failover list."""

    host: str = attrs.field(validator=valid.name)
    port: int = attrs.field(validator=valid.between(1, 65535))


@attrs.frozen(kw_only=True)
class ReconnectionConfig:
    """`reconnection:` how an initiator retries (see `ReconnectPolicy`)."""

    max_attempts: int | None = attrs.field(
        default=_RECONNECT.max_attempts, validator=valid.between(1)
    )
    initial_delay: timedelta = attrs.field(
        default=_RECONNECT.initial_delay, validator=valid.between(0)
    )
    max_delay: timedelta = attrs.field(default=_RECONNECT.max_delay, validator=valid.between(0))
    backoff_factor: float = attrs.field(
        default=_RECONNECT.backoff_factor, validator=valid.between(1)
    )
    jitter: float = attrs.field(default=_RECONNECT.jitter, validator=valid.between(0, 1))
    reset_on_success: bool = _RECONNECT.reset_on_success

    def __attrs_post_init__(self) -> None:
        if self.max_delay < self.initial_delay:
            raise InvalidValue(
                f"max_delay must be at least initial_delay "
                f"({self.initial_delay.total_seconds():g} seconds)",
                key=("max_delay",),
            )


@attrs.frozen(kw_only=True)
class WeeklyHours:
    """`trading_hours.weekly:` one period a week."""

    start_day: int
    start_time: time
    end_day: int
    end_time: time

    def __attrs_post_init__(self) -> None:
        valid.weekday(("start_day",), self.start_day)
        valid.weekday(("end_day",), self.end_day)


@attrs.frozen(kw_only=True)
class TradingHours:
    """`trading_hours:` daily hours, a `weekly` block, or `non_stop: true`."""

    timezone: str = "UTC"
    open_time: time | None = None
    close_time: time | None = None
    days_of_week: tuple[int, ...] | None = None
    weekly: WeeklyHours | None = None
    non_stop: bool = False
    holidays: tuple[date, ...] = ()

    def __attrs_post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidValue(
                "unknown time zone",
                key=("timezone",),
                got=self.timezone,
                hint='use an IANA name such as "America/New_York" or "UTC"',
            ) from None
        daily = {
            "open_time": self.open_time,
            "close_time": self.close_time,
            "days_of_week": self.days_of_week,
        }
        if self.non_stop or self.weekly is not None:
            mode = "non_stop" if self.non_stop else "weekly"
            others = {**daily, "weekly": self.weekly} if self.non_stop else daily
            for key, value in others.items():
                if value is not None:
                    raise InvalidValue(f"{key} cannot be combined with {mode}", key=(key,))
            if self.non_stop and self.holidays:
                raise InvalidValue(
                    "a non-stop session has no periods for holidays to remove", key=("holidays",)
                )
        else:
            for key in ("open_time", "close_time"):
                if daily[key] is None:
                    raise InvalidValue(
                        f"missing {key}: give open_time and close_time, "
                        "a weekly block, or non_stop: true",
                        key=(key,),
                    )
        if self.days_of_week is not None:
            if not self.days_of_week:
                raise InvalidValue(
                    "days_of_week is empty: the session would never open", key=("days_of_week",)
                )
            for index, day in enumerate(self.days_of_week):
                valid.weekday(("days_of_week", index), day)
        if self.weekly is not None:  # the one case the checks above leave to `Schedule`
            try:
                self.schedule()
            except ValueError as exc:
                raise InvalidValue(str(exc), key=("weekly",)) from None

    def schedule(self) -> Schedule:
        """The runtime's `Schedule` for these hours."""
        if self.non_stop:
            return Schedule.non_stop()
        if self.weekly is not None:
            w = self.weekly
            return Schedule.weekly(
                w.start_day, w.start_time, w.end_day, w.end_time, self.timezone, self.holidays
            )
        assert self.open_time is not None  # checked when built
        assert self.close_time is not None
        return Schedule.daily(
            self.open_time, self.close_time, self.timezone, self.days_of_week, self.holidays
        )


@attrs.frozen(kw_only=True)
class LimitsConfig:
    """`limits:` outbound rate limits and subscription caps."""

    max_orders_per_second: float | None = attrs.field(default=None, validator=valid.between(0.001))
    burst: int | None = attrs.field(default=None, validator=valid.between(1))
    max_subscriptions: int | None = attrs.field(default=None, validator=valid.between(0))
    on_limit: Literal["wait", "error"] = "wait"

    def __attrs_post_init__(self) -> None:
        if self.burst is not None and self.max_orders_per_second is None:
            raise InvalidValue("burst needs max_orders_per_second", key=("burst",))


@attrs.frozen(kw_only=True)
class ValidationConfig:
    """`fix.validation:` what received messages are checked for (`ValidationOptions`)."""

    fields_out_of_order: bool = _VALIDATION.fields_out_of_order
    fields_have_values: bool = _VALIDATION.fields_have_values
    user_defined_fields: bool = _VALIDATION.user_defined_fields
    allow_unknown_message_fields: bool = _VALIDATION.allow_unknown_message_fields


@attrs.frozen(kw_only=True)
class FixOptions:
    """`fix:` session-layer options, named as `SessionSettings` names them."""

    reset_on_logon: bool = _SETTINGS.reset_on_logon
    reset_on_logout: bool = _SETTINGS.reset_on_logout
    reset_on_disconnect: bool = _SETTINGS.reset_on_disconnect
    refresh_on_logon: bool = _SETTINGS.refresh_on_logon
    persist_messages: bool = _SETTINGS.persist_messages
    resend_request_chunk_size: int = attrs.field(
        default=_SETTINGS.resend_request_chunk_size, validator=valid.between(0)
    )
    send_redundant_resend_requests: bool = _SETTINGS.send_redundant_resend_requests
    resend_request_timeout: timedelta = attrs.field(
        default=_SETTINGS.resend_request_timeout, validator=valid.between(0.001)
    )
    check_latency: bool = _SETTINGS.check_latency
    max_latency: timedelta = attrs.field(
        default=_SETTINGS.max_latency, validator=valid.between(0.001)
    )
    logon_timeout: timedelta = attrs.field(
        default=_SETTINGS.logon_timeout, validator=valid.between(0.001)
    )
    logout_timeout: timedelta = attrs.field(
        default=_SETTINGS.logout_timeout, validator=valid.between(0.001)
    )
    check_comp_id: bool = _SETTINGS.check_comp_id
    enable_last_msg_seq_num_processed: bool = _SETTINGS.enable_last_msg_seq_num_processed
    enable_next_expected_msg_seq_num: bool = _SETTINGS.enable_next_expected_msg_seq_num
    test_request_delay_multiplier: float = attrs.field(
        default=_SETTINGS.test_request_delay_multiplier, validator=valid.between(0)
    )
    validate: bool = _SETTINGS.validate
    validation: ValidationConfig = attrs.Factory(ValidationConfig)
    supported_app_msg_types: tuple[str, ...] | None = attrs.field(
        default=None, validator=valid.msg_types
    )
    max_stashed_messages: int = attrs.field(
        default=_SETTINGS.max_stashed_messages, validator=valid.between(1)
    )
    timestamp_precision: int = attrs.field(default=_SETTINGS.timestamp_precision)

    @timestamp_precision.validator
    def _precision(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value not in (0, 3, 6):
            raise InvalidValue("expected 0, 3 or 6 digits", key=(attribute.name,), got=value)


@attrs.frozen(kw_only=True)
class SessionConfig:
    """One item of `sessions:`, a FIX session with one counterparty."""

    id: str = attrs.field(validator=valid.session_id)
    sender_comp_id: str = attrs.field(validator=valid.name)
    target_comp_id: str = attrs.field(validator=valid.name)
    name: str | None = None
    enabled: bool = True
    role: Literal["initiator", "acceptor"] = "initiator"
    host: str | None = attrs.field(default=None, validator=valid.name)
    port: int | None = attrs.field(default=None, validator=valid.between(1, 65535))
    hosts: tuple[HostPort, ...] | None = None
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    trading_account: str | None = None
    ssl: TlsConfig | None = None
    heartbeat_interval: int = attrs.field(
        default=_SETTINGS.heartbeat_interval, validator=valid.between(0)
    )
    reconnection: ReconnectionConfig = attrs.Factory(ReconnectionConfig)
    trading_hours: TradingHours | None = None
    limits: LimitsConfig | None = None
    fix: FixOptions = attrs.Factory(FixOptions)

    def __attrs_post_init__(self) -> None:
        single = {"host": self.host, "port": self.port}
        if self.role == "acceptor":
            for key, value in {**single, "hosts": self.hosts}.items():
                if value is not None:
                    raise InvalidValue(
                        f"an acceptor is reached on listen.port; {key} is for initiators",
                        key=(key,),
                    )
            if self.ssl is not None:
                raise InvalidValue(
                    "an acceptor's TLS is set on the listening port, listen.tls", key=("ssl",)
                )
        elif self.hosts is not None:
            for key, value in single.items():
                if value is not None:
                    raise InvalidValue("give host and port, or hosts, not both", key=(key,))
            if not self.hosts:
                raise InvalidValue("hosts is empty: list at least one {host, port}", key=("hosts",))
        elif self.host is None or self.port is None:
            missing, given = ("host", "port") if self.host is None else ("port", "host")
            raise InvalidValue(
                f"an initiator needs host and port, or hosts (a list, for failover); "
                f"{missing} is missing",
                key=(given,) if single[given] is not None else (),
            )

    @property
    def endpoints(self) -> tuple[tuple[str, int], ...]:
        """The (host, port) pairs an initiator tries in order; empty for an acceptor."""
        if self.hosts is not None:
            return tuple((h.host, h.port) for h in self.hosts)
        if self.host is not None and self.port is not None:
            return ((self.host, self.port),)
        return ()


@attrs.frozen(kw_only=True)
class InstrumentConfig:
    """`trading.lps[].instruments[]:` reference data the pre-send checks hold orders to."""

    symbol: str = attrs.field(validator=valid.name)
    tick_size: Decimal = attrs.field(validator=valid.positive)
    lot_size: Decimal = attrs.field(default=Decimal(1), validator=valid.positive)
    min_qty: Decimal | None = attrs.field(default=None, validator=valid.positive)
    max_qty: Decimal | None = attrs.field(default=None, validator=valid.positive)
    tradable: bool = True

    def __attrs_post_init__(self) -> None:
        if self.min_qty is not None and self.max_qty is not None and self.min_qty > self.max_qty:
            raise InvalidValue(
                f"min_qty {self.min_qty} is above max_qty {self.max_qty}", key=("min_qty",)
            )


@attrs.frozen(kw_only=True)
class BreakerConfig:
    """`trading.lps[].breaker:` when the LP's circuit breaker opens and how it recovers."""

    failure_threshold: int = attrs.field(default=5, validator=valid.between(1))
    window: timedelta = attrs.field(default=timedelta(seconds=60), validator=valid.positive)
    cool_down: timedelta = attrs.field(default=timedelta(seconds=30), validator=valid.positive)
    probes: int = attrs.field(default=1, validator=valid.between(1))


@attrs.frozen(kw_only=True)
class LiquidityProviderConfig:
    """`trading.lps[]:` one LP: its sessions, reference data, checks and breaker."""

    name: str = attrs.field(validator=valid.name)
    order_session: str | None = None
    md_session: str | None = None
    instruments: tuple[InstrumentConfig, ...] = ()
    collar_percent: Decimal | None = attrs.field(default=None, validator=valid.positive)
    collar_absolute: Decimal | None = attrs.field(default=None, validator=valid.positive)
    notional_limit: Decimal | None = attrs.field(default=None, validator=valid.positive)
    breaker: BreakerConfig = attrs.Factory(BreakerConfig)
    ack_timeout: timedelta | None = attrs.field(
        default=timedelta(seconds=10), validator=valid.positive
    )
    subscribe: tuple[str, ...] = ()
    """Symbols to subscribe to (on `md_session`) when the gateway starts."""
    depth: int = attrs.field(default=1, validator=valid.between(0))
    """Levels of the subscribed books: 1 is top of book, 0 the full book."""

    def __attrs_post_init__(self) -> None:
        if self.order_session is None and self.md_session is None:
            raise InvalidValue(
                "an LP needs an order_session, an md_session or both (session ids)",
                key=("order_session",),
            )
        if self.subscribe and self.md_session is None:
            raise InvalidValue(
                "subscribe needs md_session: the session market data comes on",
                key=("subscribe",),
            )


@attrs.frozen(kw_only=True)
class TradingConfig:
    """`trading:` the trading gateway over the sessions: its LPs."""

    lps: tuple[LiquidityProviderConfig, ...]

    def __attrs_post_init__(self) -> None:
        if not self.lps:
            raise InvalidValue("no lps: list at least one", key=("lps",))
        names: dict[str, int] = {}
        for index, lp in enumerate(self.lps):
            if lp.name in names:
                raise InvalidValue(
                    f"duplicate LP name {lp.name!r} (also lps[{names[lp.name]}])",
                    key=("lps", index, "name"),
                )
            names[lp.name] = index


@attrs.frozen(kw_only=True)
class WebConfig:
    """`web:` the dashboard and the WebSocket API (served with /health and /metrics)."""

    enabled: bool = False
    http_port: int = attrs.field(default=8080, validator=valid.between(0, 65535))
    ws_port: int = attrs.field(default=8081, validator=valid.between(0, 65535))
    host: str = attrs.field(default="127.0.0.1", validator=valid.name)
    token: str | None = None
    """A bearer token that requests changing state (orders) must carry."""


def _upper(value: str) -> str:
    return value.upper()


@attrs.frozen(kw_only=True)
class GatewayConfig:
    """A whole configuration file."""

    sessions: tuple[SessionConfig, ...]
    store: StoreConfig = attrs.Factory(StoreConfig)
    listen: ListenConfig | None = None
    log_level: str = attrs.field(
        default="INFO", converter=_upper, validator=valid.one_of(*LOG_LEVELS)
    )
    metrics: MetricsConfig = attrs.Factory(MetricsConfig)
    trading: TradingConfig | None = None
    web: WebConfig = attrs.Factory(WebConfig)

    def __attrs_post_init__(self) -> None:
        if not self.sessions:
            raise InvalidValue("no sessions: list at least one", key=("sessions",))
        self._check_lp_sessions()
        seen: dict[str, int] = {}
        acceptors: dict[tuple[str, str], int] = {}
        for index, session in enumerate(self.sessions):
            if session.id in seen:
                raise InvalidValue(
                    f"duplicate session id {session.id!r} (also sessions[{seen[session.id]}])",
                    key=("sessions", index, "id"),
                )
            seen[session.id] = index
            if session.role != "acceptor":
                continue
            if self.listen is None:
                raise InvalidValue(
                    "an acceptor needs a listening port: add listen: {port: ...} at the top",
                    key=("sessions", index, "role"),
                )
            pair = (session.sender_comp_id, session.target_comp_id)
            if pair in acceptors:
                raise InvalidValue(
                    f"the same sender_comp_id and target_comp_id as sessions[{acceptors[pair]}]:"
                    " an acceptor tells its sessions apart by these",
                    key=("sessions", index, "target_comp_id"),
                )
            acceptors[pair] = index

    def _check_lp_sessions(self) -> None:
        if self.trading is None:
            return
        known = {s.id for s in self.sessions}
        for index, lp in enumerate(self.trading.lps):
            for key in ("order_session", "md_session"):
                session = getattr(lp, key)
                if session is not None and session not in known:
                    raise InvalidValue(
                        f"no session {session!r}: use one of the sessions' ids "
                        f"({', '.join(sorted(known))})",
                        key=("trading", "lps", index, key),
                    )

    @property
    def session_ids(self) -> tuple[str, ...]:
        """The ids of the sessions, in file order."""
        return tuple(s.id for s in self.sessions)
