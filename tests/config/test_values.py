"""Values: ${ENV} substitution, FIX_* overrides, durations, times, dates and schedules."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from trifix.config import to_engine_spec
from trifix.runtime.schedule import Schedule

from .helpers import SESSION, parse, problems, session


def test_env_references_are_replaced_in_any_string() -> None:
    config = parse(
        session(host="${LP_HOST}", port="${LP_PORT}", sender_comp_id="GW-${DESK}-${REGION}"),
        {"LP_HOST": "10.0.0.7", "LP_PORT": "12336", "DESK": "fx", "REGION": "eu"},
    )
    lp = config.sessions[0]
    assert (lp.host, lp.port, lp.sender_comp_id) == ("10.0.0.7", 12336, "GW-fx-eu")
    assert type(lp.host) is str  # not the loader's marker subclass


def test_a_default_applies_when_the_variable_is_unset_or_empty() -> None:
    text = session(host="${LP_HOST:-fallback.example}", port="${LP_PORT:-9000}")
    assert parse(text).sessions[0].endpoints == (("fallback.example", 9000),)
    assert parse(text, {"LP_HOST": ""}).sessions[0].host == "fallback.example"
    assert parse(text, {"LP_HOST": "set"}).sessions[0].host == "set"
    assert parse(session(username="${USER_NAME:-}")).sessions[0].username == ""


def test_an_empty_variable_without_default_is_empty_text() -> None:
    assert parse(session(username="${USER_NAME}"), {"USER_NAME": ""}).sessions[0].username == ""


def test_a_double_dollar_is_a_literal_dollar() -> None:
    config = parse(session(password='"pa$$w$${X}"'), {"X": "no"})
    assert config.sessions[0].password == "pa$w${X}"


def test_text_from_the_environment_takes_the_type_its_key_wants() -> None:
    env = {"ON": "yes", "OFF": "False", "RATE": "2.5", "DELAY": "250ms", "N": " 7 "}
    config = parse(
        session(
            """\
            enabled: ${OFF}
            ssl: ${ON}
            reconnection: {max_attempts: "${N}", initial_delay: "${DELAY}"}
            limits: {max_orders_per_second: "${RATE}"}
            trading_hours: {non_stop: "${ON}"}
            """
        ),
        env,
    )
    lp = config.sessions[0]
    assert (lp.enabled, lp.reconnection.max_attempts) == (False, 7)
    assert lp.reconnection.initial_delay == timedelta(milliseconds=250)
    assert lp.limits is not None
    assert lp.limits.max_orders_per_second == 2.5
    assert lp.trading_hours is not None
    assert lp.trading_hours.non_stop
    assert lp.ssl is not None
    assert parse(session("ssl: ${OFF}"), env).sessions[0].ssl is None


def test_quoted_numbers_written_in_the_file_stay_text() -> None:
    assert problems(session(port='"9876"')) == [
        'gateway.yaml:4:5: sessions[0].port: expected a whole number, got "9876"'
    ]


def test_overrides_replace_values_of_the_file() -> None:
    text = "store: {path: here}\nlog_level: INFO\nmetrics: {enabled: false}\n" + SESSION
    env = {
        "FIX_STORE_DIR": "./fixstore",
        "FIX_LOG_LEVEL": "warning",
        "FIX_ENABLE_METRICS": "true",
        "FIX_METRICS_PORT": "9191",
    }
    config = parse(text, env)
    assert config.store.path == "./fixstore"
    assert config.log_level == "WARNING"
    assert (config.metrics.enabled, config.metrics.port) == (True, 9191)
    assert str(to_engine_spec(config).store_path) == "fixstore"


def test_overrides_fill_in_blocks_the_file_leaves_out() -> None:
    config = parse(SESSION, {"FIX_STORE_DIR": "/data/fix", "FIX_METRICS_PORT": "1"})
    assert (config.store.path, config.metrics.port) == ("/data/fix", 1)


def test_an_empty_override_is_ignored() -> None:
    assert parse("log_level: ERROR\n" + SESSION, {"FIX_LOG_LEVEL": ""}).log_level == "ERROR"


def test_an_override_cannot_go_into_a_value_that_is_not_a_mapping() -> None:
    assert problems("metrics: 5\n" + SESSION, {"FIX_METRICS_PORT": "1"}) == [
        "gateway.yaml:1:1: metrics: expected a mapping of keys to values, got 5"
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("1s", timedelta(seconds=1)),
        ("2m", timedelta(minutes=2)),
        ("1h", timedelta(hours=1)),
        ("1.5s", timedelta(seconds=1.5)),
        (".5s", timedelta(seconds=0.5)),
        ('" 3 s "', timedelta(seconds=3)),
        ('"4"', timedelta(seconds=4)),
        ("5", timedelta(seconds=5)),
        ("0.25", timedelta(seconds=0.25)),
        ("0", timedelta(0)),
    ],
)
def test_durations(written: str, expected: timedelta) -> None:
    config = parse(session(f"reconnection: {{initial_delay: {written}, max_delay: 2h}}"))
    assert config.sessions[0].reconnection.initial_delay == expected


def test_a_daily_schedule() -> None:
    config = parse(
        session(
            """\
            trading_hours:
              timezone: Europe/London
              open_time: "22:00"
              close_time: "6:00"
              days_of_week: [7, 1, 2, 3, 4]
              holidays: [2026-12-24]
            """
        )
    )
    assert to_engine_spec(config).sessions[0].schedule == Schedule.daily(
        time(22), time(6), "Europe/London", {7, 1, 2, 3, 4}, {date(2026, 12, 24)}
    )


def test_a_daily_schedule_on_every_day_in_utc() -> None:
    config = parse(session('trading_hours: {open_time: "00:00", close_time: "00:00"}'))
    assert to_engine_spec(config).sessions[0].schedule == Schedule.daily(time(0), time(0))


def test_a_weekly_schedule() -> None:
    config = parse(
        session(
            """\
            trading_hours:
              timezone: America/New_York
              weekly: {start_day: 7, start_time: "17:00", end_day: 5, end_time: "17:00:00"}
            """
        )
    )
    assert to_engine_spec(config).sessions[0].schedule == Schedule.weekly(
        7, time(17), 5, time(17), "America/New_York"
    )


@pytest.mark.parametrize("block", ["trading_hours: {non_stop: true}", ""])
def test_non_stop_is_written_or_the_default(block: str) -> None:
    assert to_engine_spec(parse(session(block))).sessions[0].schedule == Schedule.non_stop()


def test_choices_may_come_from_the_environment() -> None:
    config = parse(
        "listen: {port: 1}\n"
        + session(role="${ROLE}").replace("    host: lp1.example\n    port: 9876\n", ""),
        {"ROLE": "acceptor"},
    )
    assert type(config.sessions[0].role) is str
    assert config.sessions[0].role == "acceptor"
