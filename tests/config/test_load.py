"""Loading good files: every key reaches the runtime's specs with the value written."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest

from trifix.config import (
    GatewayConfig,
    InvalidValue,
    SessionConfig,
    TlsConfig,
    load,
    load_engine_spec,
    to_engine_spec,
)
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

from .helpers import SESSION, parse

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gateway.yaml"

FULL = """\
store: {path: /var/lib/trifix, sync: os}
listen:
  host: 0.0.0.0
  port: 9878
  tls: {cert_file: gw.pem, key_file: gw.key, ca_file: clients.pem, verify: false}
log_level: debug
metrics: {enabled: true, port: 9100}
sessions:
  - id: LP1
    name: LP one
    enabled: false
    role: initiator
    hosts:
      - {host: primary.lp1, port: 9876}
      - {host: backup.lp1, port: 9877}
    sender_comp_id: GW
    target_comp_id: LP1
    username: gw-user
    password: ${LP1_PASSWORD}
    trading_account: "50153"
    ssl:
      ca_file: lp1-ca.pem
      cert_file: client.pem
      key_file: client.key
      verify: true
      server_hostname: fix.lp1.example
    heartbeat_interval: 20
    reconnection:
      max_attempts: 5
      initial_delay: 500ms
      max_delay: 2m
      backoff_factor: 1.5
      jitter: 0
      reset_on_success: false
    trading_hours:
      timezone: America/New_York
      open_time: "09:30"
      close_time: "16:00:30"
      days_of_week: [1, 2, 3, 4, 5]
      holidays: [2026-12-25, "2027-01-01"]
    limits:
      max_orders_per_second: 10
      burst: 20
      max_subscriptions: 100
      on_limit: error
    fix:
      reset_on_logon: true
      reset_on_logout: true
      reset_on_disconnect: true
      refresh_on_logon: true
      persist_messages: false
      resend_request_chunk_size: 2500
      send_redundant_resend_requests: true
      resend_request_timeout: 30s
      check_latency: false
      max_latency: 1h
      logon_timeout: 5
      logout_timeout: 1.5
      check_comp_id: false
      enable_last_msg_seq_num_processed: true
      enable_next_expected_msg_seq_num: true
      test_request_delay_multiplier: 1.0
      validate: false
      validation:
        fields_out_of_order: false
        fields_have_values: false
        user_defined_fields: true
        allow_unknown_message_fields: true
      supported_app_msg_types: [D, F, G]
      max_stashed_messages: 500
      timestamp_precision: 6
  - id: CLIENT1
    role: acceptor
    sender_comp_id: GW
    target_comp_id: CLIENT1
    trading_hours: {non_stop: true}
"""


def test_a_full_file_gives_exactly_the_engine_spec() -> None:
    spec = to_engine_spec(parse(FULL, {"LP1_PASSWORD": "s3cret"}))
    lp1 = SessionSpec(
        id="LP1",
        settings=SessionSettings(
            sender_comp_id="GW",
            target_comp_id="LP1",
            role=Role.INITIATOR,
            heartbeat_interval=20,
            test_request_delay_multiplier=1.0,
            logon_timeout=timedelta(seconds=5),
            logout_timeout=timedelta(seconds=1.5),
            reset_on_logon=True,
            reset_on_logout=True,
            reset_on_disconnect=True,
            refresh_on_logon=True,
            persist_messages=False,
            resend_request_chunk_size=2500,
            send_redundant_resend_requests=True,
            resend_request_timeout=timedelta(seconds=30),
            check_latency=False,
            max_latency=timedelta(hours=1),
            check_comp_id=False,
            enable_last_msg_seq_num_processed=True,
            enable_next_expected_msg_seq_num=True,
            username="gw-user",
            password="s3cret",
            supported_app_msg_types=frozenset({"D", "F", "G"}),
            validation=ValidationOptions(
                fields_out_of_order=False,
                fields_have_values=False,
                user_defined_fields=True,
                allow_unknown_message_fields=True,
            ),
            validate=False,
            max_stashed_messages=500,
            timestamp_precision=6,
        ),
        hosts=(("primary.lp1", 9876), ("backup.lp1", 9877)),
        schedule=Schedule.daily(
            time(9, 30),
            time(16, 0, 30),
            "America/New_York",
            {1, 2, 3, 4, 5},
            {date(2026, 12, 25), date(2027, 1, 1)},
        ),
        reconnect=ReconnectPolicy(
            max_attempts=5,
            initial_delay=timedelta(milliseconds=500),
            max_delay=timedelta(minutes=2),
            backoff_factor=1.5,
            jitter=0.0,
            reset_on_success=False,
        ),
        tls=TlsSettings(
            ca_file=Path("lp1-ca.pem"),
            cert_file=Path("client.pem"),
            key_file=Path("client.key"),
            verify=True,
            server_hostname="fix.lp1.example",
        ),
        throttle=ThrottleSettings(rate=10.0, burst=20, on_limit="error"),
        enabled=False,
    )
    client = SessionSpec(
        id="CLIENT1",
        settings=SessionSettings("GW", "CLIENT1", Role.ACCEPTOR),
        schedule=Schedule.non_stop(),
    )
    assert spec == EngineSpec(
        sessions=(lp1, client),
        store_path=Path("/var/lib/trifix"),
        store_sync="os",
        listen_host="0.0.0.0",
        listen_port=9878,
        acceptor_tls=TlsSettings(
            ca_file=Path("clients.pem"),
            cert_file=Path("gw.pem"),
            key_file=Path("gw.key"),
            verify=False,
        ),
    )


def test_the_full_file_keeps_what_the_engine_does_not_use() -> None:
    config = parse(FULL, {"LP1_PASSWORD": "s3cret"})
    assert config.log_level == "DEBUG"
    assert (config.metrics.enabled, config.metrics.port) == (True, 9100)
    lp1 = config.sessions[0]
    assert (lp1.name, lp1.trading_account) == ("LP one", "50153")
    assert lp1.limits is not None
    assert lp1.limits.max_subscriptions == 100
    assert config.session_ids == ("LP1", "CLIENT1")
    assert config.sessions[1].endpoints == ()


def test_defaults_are_the_engines_defaults() -> None:
    config = parse(SESSION)
    assert config.store.path == "fixstore"
    assert config.store.sync == "durable"
    assert config.listen is None
    assert config.log_level == "INFO"
    assert (config.metrics.enabled, config.metrics.port) == (False, 9090)
    spec = to_engine_spec(config)
    assert spec == EngineSpec(
        sessions=(
            SessionSpec(
                id="LP1",
                settings=SessionSettings("GW", "LP1", Role.INITIATOR),
                hosts=(("lp1.example", 9876),),
            ),
        ),
        store_path=Path("fixstore"),
    )
    session = config.sessions[0]
    assert (session.enabled, session.role, session.name, session.ssl) == (
        True,
        "initiator",
        None,
        None,
    )


def test_a_null_store_path_keeps_the_store_in_memory() -> None:
    assert to_engine_spec(parse("store: {path: null}\n" + SESSION)).store_path is None


@pytest.mark.parametrize(
    ("ssl", "expected"),
    [
        ("true", TlsSettings()),
        ("false", None),
        ("null", None),
        ("{verify: false}", TlsSettings(verify=False)),
    ],
)
def test_ssl_is_a_boolean_or_a_mapping(ssl: str, expected: TlsSettings | None) -> None:
    config = parse(SESSION + f"    ssl: {ssl}\n")
    assert to_engine_spec(config).sessions[0].tls == expected


def test_a_listen_block_without_tls() -> None:
    spec = to_engine_spec(parse("listen: {port: 0}\n" + SESSION))
    assert (spec.listen_host, spec.listen_port, spec.acceptor_tls) == ("127.0.0.1", 0, None)


def test_a_limits_block_without_a_rate_sets_no_throttle() -> None:
    config = parse(SESSION + "    limits: {max_subscriptions: 10}\n")
    assert to_engine_spec(config).sessions[0].throttle is None


def test_load_reads_a_file_and_load_engine_spec_builds_from_it(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(SESSION, encoding="utf-8")
    assert load(path, {}).session_ids == ("LP1",)
    assert load_engine_spec(path, {}) == to_engine_spec(load(str(path), {}))


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + SESSION.encode())
    assert load(path, {}).session_ids == ("LP1",)


def test_the_bundled_example_loads() -> None:
    env = {"LP1_USERNAME": "gw", "LP1_PASSWORD": "a", "LP2_PASSWORD": "b"}
    spec = load_engine_spec(EXAMPLE, env)
    lp1, lp2 = spec.sessions
    assert lp1.hosts == (("127.0.0.1", 9876), ("127.0.0.1", 9877))
    assert lp1.schedule == Schedule.weekly(
        7, time(17), 5, time(17), "America/New_York", {date(2026, 12, 27)}
    )
    assert lp1.settings.reset_on_logon
    assert lp2.hosts == (("127.0.0.1", 9880),)
    assert lp2.throttle == ThrottleSettings(5.0, 10, "wait")
    assert lp2.settings.validation.allow_unknown_message_fields


def test_secrets_stay_out_of_reprs() -> None:
    config = parse(FULL, {"LP1_PASSWORD": "s3cret"})
    spec = to_engine_spec(config)
    for text in (repr(config), repr(config.sessions[0]), repr(spec), str(spec)):
        assert "s3cret" not in text


def test_the_schema_classes_check_values_when_built_directly() -> None:
    with pytest.raises(ValueError, match=r"^port: expected from 1 to 65535, got 0$"):
        SessionConfig(id="A", sender_comp_id="S", target_comp_id="T", host="h", port=0)
    with pytest.raises(ValueError, match=r"^sessions: no sessions: list at least one$"):
        GatewayConfig(sessions=())
    with pytest.raises(ValueError, match=r"^key_file: key_file needs cert_file"):
        TlsConfig(key_file="k.pem")
    secret = InvalidValue("expected a string", key=("password",), got=1234, hint='"1234"')
    assert str(secret) == "password: expected a string, got an integer"
