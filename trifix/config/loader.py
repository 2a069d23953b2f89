"""Loading a configuration file, and turning it into what the runtime runs (`EngineSpec`).

`load` reads the file, substitutes ``${ENV}`` references, applies the FIX_* overrides and
builds a `GatewayConfig`, or raises one `ConfigFileError` listing every problem with its file,
line, column and key. `to_engine_spec` maps the configuration onto the runtime's specs:
`SessionSettings` (identity and the ``fix:`` options), `Schedule` (``trading_hours``),
`ReconnectPolicy`, `TlsSettings` and `ThrottleSettings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import cattrs

from trifix.config._convert import Failure, failures, structure
from trifix.config._source import read_document
from trifix.config.errors import ConfigFileError, ConfigProblem, InvalidValue, format_key
from trifix.config.schema import GatewayConfig, SessionConfig, TlsConfig
from trifix.core.settings import Role, SessionSettings
from trifix.core.validate import ValidationOptions
from trifix.runtime.schedule import Schedule
from trifix.runtime.specs import (
    EngineSpec,
    ReconnectPolicy,
    SessionSpec,
    ThrottleSettings,
    TlsSettings,
)

__all__ = ["load", "load_engine_spec", "loads", "session_spec", "to_engine_spec"]

_NO_LISTEN_HOST = "127.0.0.1"  # EngineSpec's default; unused when nothing listens


def load(path: str | os.PathLike[str], environ: Mapping[str, str] = os.environ) -> GatewayConfig:
    """Read and check a configuration file.

    Args:
        path: the YAML file; messages name it as given here.
        environ: the environment for ``${NAME}`` substitution and the FIX_* overrides.

    Returns:
        The configuration.

    Raises:
        ConfigFileError: the file cannot be read, is not valid YAML, or does not fit the schema;
            the message lists every problem found.
    """
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        problem = ConfigProblem(name, None, None, "", f"cannot read the file: {exc.strerror}")
        raise ConfigFileError([problem]) from None
    return loads(data, file=name, environ=environ)


def loads(
    text: str | bytes, *, file: str = "<config>", environ: Mapping[str, str] = os.environ
) -> GatewayConfig:
    """Check a configuration given as text; `file` is the name messages use. See `load`."""
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            problem = ConfigProblem(file, line, column, "", "the file is not UTF-8 text")
            raise ConfigFileError([problem]) from None
    doc = read_document(text, file, environ)
    problems = list(doc.problems)
    if doc.data is None and problems:
        raise ConfigFileError(problems)
    data = doc.data
    if isinstance(data, dict):  # x-... keys hold what anchors refer to; nothing else reads them
        data = {k: v for k, v in data.items() if not k.startswith("x-")}
    try:
        config: GatewayConfig = structure(data, GatewayConfig)
    except (cattrs.BaseValidationError, InvalidValue) as exc:
        # A value already reported (an unset variable) would only add noise here.
        reported = {p.key for p in problems}
        found: list[Failure] = list(failures(exc))
        problems += [
            doc.problem(f.path, f.message) for f in found if format_key(f.path) not in reported
        ]
    if problems:
        raise ConfigFileError(problems)
    return config


def load_engine_spec(
    path: str | os.PathLike[str], environ: Mapping[str, str] = os.environ
) -> EngineSpec:
    """`to_engine_spec(load(path, environ))`: what `trifix run FILE` runs."""
    return to_engine_spec(load(path, environ))


def to_engine_spec(config: GatewayConfig) -> EngineSpec:
    """The runtime's description of everything `config` asks for."""
    listen = config.listen
    return EngineSpec(
        sessions=tuple(session_spec(s) for s in config.sessions),
        store_path=None if config.store.path is None else Path(config.store.path),
        store_sync=config.store.sync,
        listen_host=_NO_LISTEN_HOST if listen is None else listen.host,
        listen_port=None if listen is None else listen.port,
        acceptor_tls=None if listen is None else _tls(listen.tls),
    )


def session_spec(config: SessionConfig) -> SessionSpec:
    """The runtime's description of one configured session."""
    fix, reconnection, limits = config.fix, config.reconnection, config.limits
    validation = fix.validation
    settings = SessionSettings(
        sender_comp_id=config.sender_comp_id,
        target_comp_id=config.target_comp_id,
        role=Role(config.role),
        heartbeat_interval=config.heartbeat_interval,
        username=config.username,
        password=config.password,
        test_request_delay_multiplier=fix.test_request_delay_multiplier,
        logon_timeout=fix.logon_timeout,
        logout_timeout=fix.logout_timeout,
        reset_on_logon=fix.reset_on_logon,
        reset_on_logout=fix.reset_on_logout,
        reset_on_disconnect=fix.reset_on_disconnect,
        refresh_on_logon=fix.refresh_on_logon,
        persist_messages=fix.persist_messages,
        resend_request_chunk_size=fix.resend_request_chunk_size,
        send_redundant_resend_requests=fix.send_redundant_resend_requests,
        resend_request_timeout=fix.resend_request_timeout,
        check_latency=fix.check_latency,
        max_latency=fix.max_latency,
        check_comp_id=fix.check_comp_id,
        enable_last_msg_seq_num_processed=fix.enable_last_msg_seq_num_processed,
        enable_next_expected_msg_seq_num=fix.enable_next_expected_msg_seq_num,
        supported_app_msg_types=(
            None if fix.supported_app_msg_types is None else frozenset(fix.supported_app_msg_types)
        ),
        validation=ValidationOptions(
            fields_out_of_order=validation.fields_out_of_order,
            fields_have_values=validation.fields_have_values,
            user_defined_fields=validation.user_defined_fields,
            allow_unknown_message_fields=validation.allow_unknown_message_fields,
        ),
        validate=fix.validate,
        max_stashed_messages=fix.max_stashed_messages,
        timestamp_precision=fix.timestamp_precision,
    )
    throttle = None
    if limits is not None and limits.max_orders_per_second is not None:
        throttle = ThrottleSettings(limits.max_orders_per_second, limits.burst, limits.on_limit)
    return SessionSpec(
        id=config.id,
        settings=settings,
        hosts=config.endpoints,
        schedule=(
            Schedule.non_stop() if config.trading_hours is None else config.trading_hours.schedule()
        ),
        reconnect=ReconnectPolicy(
            max_attempts=reconnection.max_attempts,
            initial_delay=reconnection.initial_delay,
            max_delay=reconnection.max_delay,
            backoff_factor=reconnection.backoff_factor,
            jitter=reconnection.jitter,
            reset_on_success=reconnection.reset_on_success,
        ),
        tls=_tls(config.ssl),
        throttle=throttle,
        enabled=config.enabled,
    )


def _tls(config: TlsConfig | None) -> TlsSettings | None:
    if config is None:
        return None
    return TlsSettings(
        ca_file=None if config.ca_file is None else Path(config.ca_file),
        cert_file=None if config.cert_file is None else Path(config.cert_file),
        key_file=None if config.key_file is None else Path(config.key_file),
        verify=config.verify,
        server_hostname=config.server_hostname,
    )
