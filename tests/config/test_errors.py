"""Bad files: every kind of problem, with its exact file:line:column, key path and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from trifix.config import ConfigError, ConfigFileError, load

from .helpers import SESSION, parse, problems, session

# SESSION's lines: 1 "sessions:", 2 "  - id: LP1", 3 host, 4 port, 5 sender_comp_id,
# 6 target_comp_id; lines added by `session(...)` start at 7, in column 5.


def test_a_bad_duration_names_file_line_column_and_key() -> None:
    text = session(
        """\
        reconnection:
          initial_delay: fast
        """
    )
    assert problems(text) == [
        "gateway.yaml:8:7: sessions[0].reconnection.initial_delay: "
        'expected a duration like "1s" or "500ms", got "fast"'
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1s", 'expected a duration like "1s" or "500ms", got "-1s"'),
        ("-2", "expected a duration of zero or more seconds, got -2"),
        (".inf", "expected a duration of zero or more seconds, got inf"),
        ("1d", 'expected a duration like "1s" or "500ms", got "1d"'),
        ("[1]", 'expected a duration like "1s" or "500ms", got a list'),
        ("true", 'expected a duration like "1s" or "500ms", got true'),
    ],
)
def test_bad_durations(value: str, message: str) -> None:
    assert problems(session(f"fix: {{logon_timeout: {value}}}")) == [
        f"gateway.yaml:7:11: sessions[0].fix.logon_timeout: {message}"
    ]


def test_an_unquoted_time_is_read_by_yaml_as_a_number_and_rejected() -> None:
    text = session('trading_hours: {open_time: 17:00, close_time: "18:00"}')
    assert problems(text) == [
        "gateway.yaml:7:21: sessions[0].trading_hours.open_time: "
        'expected a time in quotes, such as "17:00", got 1020; '
        'YAML reads an unquoted 17:00 as a number: write "17:00"'
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("'25:00'", 'expected a time like "09:30" or "17:00:00", got "25:00"'),
        ("'9h30'", 'expected a time like "09:30" or "17:00:00", got "9h30"'),
        ("2.5", 'expected a time like "09:30" or "17:00:00", got 2.5'),
        (
            "100000",
            'expected a time in quotes, such as "100000", got 100000; '
            'YAML reads an unquoted 100000 as a number: write "100000"',
        ),
    ],
)
def test_bad_times(value: str, message: str) -> None:
    text = session(
        f"""\
        trading_hours:
          close_time: {value}
          open_time: "09:00"
        """
    )
    assert problems(text) == [f"gateway.yaml:8:7: sessions[0].trading_hours.close_time: {message}"]


def test_an_unknown_key_suggests_the_closest_known_one() -> None:
    text = session(
        """\
        reconnection:
          max_dealy: 5s
        sender_compid: X
        """
    )
    assert problems(text) == [
        "gateway.yaml:8:7: sessions[0].reconnection.max_dealy: "
        "unknown key 'max_dealy' (did you mean 'max_delay'?)",
        "gateway.yaml:9:5: sessions[0].sender_compid: "
        "unknown key 'sender_compid' (did you mean 'sender_comp_id'?)",
    ]


def test_an_unknown_key_with_nothing_close_lists_the_known_keys() -> None:
    assert problems("store: {colour: blue}\n" + SESSION) == [
        "gateway.yaml:1:9: store.colour: unknown key 'colour'; known keys: path, sync"
    ]


def test_a_missing_required_key_points_at_its_mapping() -> None:
    text = "sessions:\n  - id: LP1\n    host: h\n    port: 1\n    target_comp_id: LP\n"
    assert problems(text) == [
        "gateway.yaml:2:5: sessions[0].sender_comp_id: missing: this key is required"
    ]


def test_a_missing_sessions_list() -> None:
    assert problems("log_level: INFO\n") == [
        "gateway.yaml:1:1: sessions: missing: this key is required"
    ]


def test_an_empty_sessions_list() -> None:
    assert problems("sessions: []\n") == [
        "gateway.yaml:1:1: sessions: no sessions: list at least one"
    ]


@pytest.mark.parametrize(
    ("extra", "column", "line"),
    [
        (
            "trading_account: 50153",
            5,
            "sessions[0].trading_account: expected a string, got 50153; quote it",
        ),
        ("name: yes", 5, "sessions[0].name: expected a string, got true; quote it"),
        ("name: [a]", 5, "sessions[0].name: expected a string, got a list"),
        ("enabled: 1", 5, "sessions[0].enabled: expected true or false, got 1"),
        ("enabled: 'no'", 5, 'sessions[0].enabled: expected true or false, got "no"'),
        (
            "heartbeat_interval: 2.5",
            5,
            "sessions[0].heartbeat_interval: expected a whole number, got 2.5",
        ),
        (
            "heartbeat_interval: true",
            5,
            "sessions[0].heartbeat_interval: expected a whole number, got true",
        ),
        (
            "heartbeat_interval: -1",
            5,
            "sessions[0].heartbeat_interval: expected at least 0, got -1",
        ),
        (
            "limits: {max_orders_per_second: fast}",
            14,
            'sessions[0].limits.max_orders_per_second: expected a number, got "fast"',
        ),
        (
            "limits: {max_orders_per_second: .nan}",
            14,
            "sessions[0].limits.max_orders_per_second: expected a finite number, got nan",
        ),
        (
            "limits: {max_orders_per_second: 0}",
            14,
            "sessions[0].limits.max_orders_per_second: expected at least 0.001, got 0",
        ),
        (
            "limits: {on_limit: drop}",
            14,
            'sessions[0].limits.on_limit: expected one of wait, error, got "drop"',
        ),
        ("limits: {burst: 3}", 14, "sessions[0].limits.burst: burst needs max_orders_per_second"),
        ("role: client", 5, 'sessions[0].role: expected one of initiator, acceptor, got "client"'),
        (
            "reconnection: 5",
            5,
            "sessions[0].reconnection: expected a mapping of keys to values, got 5",
        ),
        (
            "reconnection: {jitter: 2}",
            20,
            "sessions[0].reconnection.jitter: expected from 0 to 1, got 2",
        ),
        (
            "reconnection: {max_attempts: 0}",
            20,
            "sessions[0].reconnection.max_attempts: expected at least 1, got 0",
        ),
        (
            "reconnection: {initial_delay: 2m, max_delay: 1m}",
            39,
            "sessions[0].reconnection.max_delay: max_delay must be at least initial_delay (120 "
            "seconds)",
        ),
        (
            "ssl: maybe",
            5,
            'sessions[0].ssl: expected true, false or a mapping of TLS settings, got "maybe"',
        ),
        (
            "ssl: {key_file: k.pem}",
            11,
            "sessions[0].ssl.key_file: key_file needs cert_file, the certificate it goes with",
        ),
        ("ssl: {verify: sure}", 11, 'sessions[0].ssl.verify: expected true or false, got "sure"'),
        (
            "fix: {timestamp_precision: 4}",
            11,
            "sessions[0].fix.timestamp_precision: expected 0, 3 or 6 digits, got 4",
        ),
        (
            "fix: {supported_app_msg_types: [D, ZZ]}",
            40,
            'sessions[0].fix.supported_app_msg_types[1]: not a FIX 4.4 MsgType, got "ZZ"; write '
            'the MsgType value, such as "D" for NewOrderSingle',
        ),
        (
            "fix: {supported_app_msg_types: D}",
            11,
            'sessions[0].fix.supported_app_msg_types: expected a list, got "D"',
        ),
        (
            "fix: {logon_timeout: 0}",
            11,
            "sessions[0].fix.logon_timeout: expected at least 0.001 seconds, got 0",
        ),
        (
            "fix: {validation: {strict: true}}",
            24,
            "sessions[0].fix.validation.strict: unknown key 'strict'; known keys: "
            "allow_unknown_message_fields, fields_have_values, fields_out_of_order, "
            "user_defined_fields",
        ),
    ],
)
def test_bad_values_on_line_7(extra: str, column: int, line: str) -> None:
    assert problems(session(extra)) == [f"gateway.yaml:7:{column}: {line}"]


def test_a_bad_value_in_a_list_points_at_the_item() -> None:
    text = session(
        "trading_hours: {days_of_week: [1, 2, 9], open_time: '1:00', close_time: '2:00'}"
    )
    assert problems(text) == [
        "gateway.yaml:7:42: sessions[0].trading_hours.days_of_week[2]: "
        "expected an ISO weekday, 1 (Monday) to 7 (Sunday), got 9"
    ]


@pytest.mark.parametrize(
    ("block", "line"),
    [
        (
            "{timezone: Mars/Olympus}",
            'trading_hours.timezone: unknown time zone, got "Mars/Olympus"; use an IANA name such '
            'as "America/New_York" or "UTC"',
        ),
        (
            "{open_time: '09:00'}",
            "trading_hours.close_time: missing close_time: give open_time and close_time, a "
            "weekly block, or non_stop: true",
        ),
        (
            "{non_stop: false}",
            "trading_hours.open_time: missing open_time: give open_time and close_time, a weekly "
            "block, or non_stop: true",
        ),
        (
            "{non_stop: true, open_time: '09:00'}",
            "trading_hours.open_time: open_time cannot be combined with non_stop",
        ),
        (
            "{non_stop: true, holidays: [2026-12-25]}",
            "trading_hours.holidays: a non-stop session has no periods for holidays to remove",
        ),
        (
            "{weekly: {start_day: 1, start_time: '1:00', end_day: 2, end_time: '1:00'}, "
            "days_of_week: [1]}",
            "trading_hours.days_of_week: days_of_week cannot be combined with weekly",
        ),
        (
            "{weekly: {start_day: 1, start_time: '1:00', end_day: 1, end_time: '1:00'}}",
            "trading_hours.weekly: a weekly schedule cannot start and end at the same time (day 1 "
            "01:00:00): the period would be empty or endless",
        ),
        (
            "{weekly: {start_day: 0, start_time: '1:00', end_day: 1, end_time: '2:00'}}",
            "trading_hours.weekly.start_day: expected an ISO weekday, 1 (Monday) to 7 (Sunday), "
            "got 0",
        ),
        (
            "{open_time: '1:00', close_time: '2:00', days_of_week: []}",
            "trading_hours.days_of_week: days_of_week is empty: the session would never open",
        ),
        (
            "{open_time: '1:00', close_time: '2:00', holidays: [christmas]}",
            'trading_hours.holidays[0]: expected a date such as 2026-12-25, got "christmas"',
        ),
        (
            "{open_time: '1:00', close_time: '2:00', holidays: [2026-12-25 10:00:00]}",
            "trading_hours.holidays[0]: expected a date such as 2026-12-25, not a date and time, "
            "got 2026-12-25T10:00:00",
        ),
        (
            "{open_time: '1:00', close_time: '2:00', holidays: [20261225]}",
            "trading_hours.holidays[0]: expected a date such as 2026-12-25, got 20261225",
        ),
    ],
)
def test_bad_trading_hours(block: str, line: str) -> None:
    (problem,) = problems(session(f"trading_hours: {block}"))
    # The column is that of the key (trading_hours) or, for a list item, of the item.
    assert problem.split(": ", 1)[1] == f"sessions[0].{line}"
    assert problem.startswith("gateway.yaml:7:")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            SESSION.replace("    host: lp1.example\n", ""),
            "gateway.yaml:3:5: sessions[0].port: an initiator needs host and port, or hosts (a "
            "list, for failover); host is missing",
        ),
        (
            SESSION.replace("    port: 9876\n", ""),
            "gateway.yaml:3:5: sessions[0].host: an initiator needs host and port, or hosts (a "
            "list, for failover); port is missing",
        ),
        (
            SESSION.replace("    host: lp1.example\n    port: 9876\n", ""),
            "gateway.yaml:2:5: sessions[0]: an initiator needs host and port, or hosts (a list, "
            "for failover); host is missing",
        ),
        (
            SESSION + "    hosts: [{host: b, port: 2}]\n",
            "gateway.yaml:3:5: sessions[0].host: give host and port, or hosts, not both",
        ),
        (
            SESSION.replace("    host: lp1.example\n    port: 9876\n", "    hosts: []\n"),
            "gateway.yaml:3:5: sessions[0].hosts: hosts is empty: list at least one {host, port}",
        ),
        (
            SESSION.replace(
                "    host: lp1.example\n    port: 9876\n", "    hosts: [{host: a, port: 0}]\n"
            ),
            "gateway.yaml:3:23: sessions[0].hosts[0].port: expected from 1 to 65535, got 0",
        ),
        (
            SESSION.replace("GW", '"G\\x01W"'),
            "gateway.yaml:5:5: sessions[0].sender_comp_id: expected a non-empty name without "
            'control characters, got "G\x01W"',
        ),
        (
            SESSION.replace("id: LP1", "id: ''"),
            "gateway.yaml:2:5: sessions[0].id: expected a non-empty name without control "
            'characters, got ""',
        ),
        (
            SESSION.replace("id: LP1", f"id: {'x' * 300}"),
            "gateway.yaml:2:5: sessions[0].id: session id is 300 bytes in UTF-8, longer than the "
            "120 a store accepts: '" + "x" * 300 + "'",
        ),
    ],
)
def test_bad_endpoints_and_identities(text: str, line: str) -> None:
    assert problems(text) == [line]


def test_acceptor_rules() -> None:
    acceptor = SESSION.replace("    host: lp1.example\n    port: 9876\n", "    role: acceptor\n")
    assert problems(acceptor) == [
        "gateway.yaml:3:5: sessions[0].role: an acceptor needs a listening port: "
        "add listen: {port: ...} at the top"
    ]
    assert problems(SESSION + "    role: acceptor\n") == [
        "gateway.yaml:3:5: sessions[0].host: an acceptor is reached on listen.port; "
        "host is for initiators"
    ]
    listen = "listen: {port: 9878}\n"
    assert problems(listen + acceptor + "    ssl: true\n") == [
        "gateway.yaml:7:5: sessions[0].ssl: an acceptor's TLS is set on the listening port, "
        "listen.tls"
    ]
    twice = acceptor + acceptor.replace("sessions:\n", "").replace("- id: LP1", "- id: LP2")
    assert problems(listen + twice) == [
        "gateway.yaml:10:5: sessions[1].target_comp_id: the same sender_comp_id and "
        "target_comp_id as sessions[0]: an acceptor tells its sessions apart by these"
    ]
    assert problems("listen: {port: 1, tls: {verify: false}}\n" + acceptor) == [
        "gateway.yaml:1:19: listen.tls.cert_file: a listening port needs a certificate to serve TLS"
    ]


def test_duplicate_session_ids() -> None:
    text = SESSION + SESSION.replace("sessions:\n", "")
    assert problems(text) == [
        "gateway.yaml:7:5: sessions[1].id: duplicate session id 'LP1' (also sessions[0])"
    ]


def test_top_level_values() -> None:
    assert problems("log_level: loud\n" + SESSION) == [
        "gateway.yaml:1:1: log_level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got "
        '"LOUD"'
    ]
    assert problems("store: {sync: always}\nmetrics: {port: 70000}\n" + SESSION) == [
        'gateway.yaml:1:9: store.sync: expected one of durable, os, got "always"',
        "gateway.yaml:2:11: metrics.port: expected from 1 to 65535, got 70000",
    ]
    assert problems("- a\n- b\n") == [
        "gateway.yaml:1:1: expected a mapping of keys to values, got a list"
    ]
    assert problems("sessions: {id: LP1}\n") == [
        "gateway.yaml:1:1: sessions: expected a list, got a mapping"
    ]


def test_an_unset_variable_names_the_variable_and_the_key() -> None:
    assert problems(session(password="${LP1_PASSWORD}")) == [
        "gateway.yaml:7:5: sessions[0].password: environment variable LP1_PASSWORD is not set "
        "(set it, or give a default: ${LP1_PASSWORD:-...})"
    ]


@pytest.mark.parametrize("value", ["${}", "${1X}", "'${X'", "'${X:default}'", "a${X-y}"])
def test_a_malformed_reference(value: str) -> None:
    assert problems(session(username=value), {"X": "x"}) == [
        "gateway.yaml:7:5: sessions[0].username: "
        "malformed ${...}: write ${NAME} or ${NAME:-default} (or $$ for a $)"
    ]


def test_an_unset_variable_is_not_reported_twice() -> None:
    # The port's value is empty text after the failed substitution: only one problem.
    assert problems(session(port="${LP1_PORT}")) == [
        "gateway.yaml:4:5: sessions[0].port: environment variable LP1_PORT is not set "
        "(set it, or give a default: ${LP1_PORT:-...})"
    ]


def test_a_bad_override_names_the_variable() -> None:
    env = {"FIX_METRICS_PORT": "ninety", "FIX_ENABLE_METRICS": "perhaps"}
    assert problems(SESSION, env) == [
        'gateway.yaml: metrics.enabled: expected true or false, got "perhaps" '
        "(set by the environment variable FIX_ENABLE_METRICS)",
        'gateway.yaml: metrics.port: expected a whole number, got "ninety" '
        "(set by the environment variable FIX_METRICS_PORT)",
    ]


def test_a_yaml_syntax_error_names_the_line() -> None:
    assert problems("sessions: [\n  {id: LP1\n  password: hunter2\n") == [
        "gateway.yaml:3:11: invalid YAML: expected ',' or '}', but got ':' "
        "(while parsing a flow mapping)"
    ]
    assert problems("a: b: c\n") == [
        "gateway.yaml:1:5: invalid YAML: mapping values are not allowed here"
    ]


def test_a_yaml_error_never_quotes_the_line_it_is_on() -> None:
    (line,) = problems(SESSION + '    password: "hunter2\n')
    assert "hunter2" not in line


def test_a_character_yaml_does_not_allow() -> None:
    assert problems("sessions:\n  - id: LP\x07\n") == [
        "gateway.yaml:2:11: invalid YAML: the character U+0007 is not allowed"
    ]


def test_an_empty_file() -> None:
    assert problems("") == ["gateway.yaml:1:1: the file is empty"]
    assert problems("# only a comment\n") == ["gateway.yaml:1:1: the file is empty"]


def test_duplicate_and_non_name_keys() -> None:
    text = session(
        """\
        port: 1
        1: x
        [a]: y
        """
    )
    assert problems(text) == [
        "gateway.yaml:7:5: sessions[0].port: duplicate key 'port'",
        "gateway.yaml:8:5: sessions[0]: 1 is not a name: quote the key",
        "gateway.yaml:9:5: sessions[0]: a key must be a name, not a mapping or list",
    ]


def test_an_unknown_tag() -> None:
    assert problems(session(password="!vault abc")) == [
        "gateway.yaml:7:5: sessions[0].password: unknown YAML tag '!vault'"
    ]


@pytest.mark.parametrize(
    "value", ["!!int abc", "!!float x", "!!timestamp nope", "!!bool maybe", "!!binary 'é'"]
)
def test_a_value_its_tag_cannot_read(value: str) -> None:
    tag = value.split()[0]
    assert problems(session(password=value)) == [
        f"gateway.yaml:7:5: sessions[0].password: not a valid {tag} value"
    ]


def test_anchors_aliases_and_merge_keys_work() -> None:
    # Top-level keys starting with x- are ignored: a place to keep what anchors refer to.
    text = """\
    x-defaults: &base {sender_comp_id: GW, heartbeat_interval: 10, port: 1}
    sessions:
      - id: LP1
        <<: *base
        host: a
        target_comp_id: LP1
      - id: LP2
        heartbeat_interval: 20
        <<: [*base, {host: b}]
        target_comp_id: LP2
        reconnection: &r {max_attempts: 3}
      - {id: LP3, host: c, port: 3, sender_comp_id: GW, target_comp_id: LP3, reconnection: *r}
    """
    config = parse(text)
    lp1, lp2, lp3 = config.sessions
    assert (lp1.sender_comp_id, lp1.heartbeat_interval, lp1.endpoints) == ("GW", 10, (("a", 1),))
    assert (lp2.heartbeat_interval, lp2.endpoints) == (20, (("b", 1),))
    assert lp3.reconnection.max_attempts == 3


def test_a_problem_in_a_merged_value_points_where_it_is_written() -> None:
    text = """\
    sessions:
      - id: LP1
        <<: {sender_comp_id: GW, host: a, port: zero}
        target_comp_id: LP1
    """
    assert problems(text) == [
        'gateway.yaml:3:39: sessions[0].port: expected a whole number, got "zero"'
    ]


def test_bad_merges() -> None:
    assert problems(SESSION + "    <<: 5\n") == [
        "gateway.yaml:2:5: sessions[0]: << merges a mapping, or a list of mappings"
    ]
    assert problems("a: &a\n  <<: *a\n" + SESSION) == [
        "gateway.yaml:1:1: a: an alias refers to a value that contains it"
    ]


def test_a_recursive_alias() -> None:
    assert problems(SESSION + "    name: &n [*n]\n") == [
        "gateway.yaml:7:5: sessions[0].name: expected a string, got a list",
        "gateway.yaml:7:11: sessions[0].name[0]: an alias refers to a value that contains it",
    ]


def test_many_problems_are_reported_together_in_file_order() -> None:
    text = session(
        """\
        enabled: maybe
        heartbeat_interval: often
        """,
        port='"x"',
    )
    lines = problems(text)
    assert [line.split(": ")[0] for line in lines] == [
        "gateway.yaml:4:5",
        "gateway.yaml:7:5",
        "gateway.yaml:8:5",
    ]


def test_secrets_never_appear_in_messages() -> None:
    lines = problems(session(password="123456"))
    assert lines == ["gateway.yaml:7:5: sessions[0].password: expected a string, got an integer"]
    lines = problems(session(password="[hunter2]"))
    assert lines == ["gateway.yaml:7:5: sessions[0].password: expected a string, got a list"]
    lines = problems(session(password="true"))
    assert lines == ["gateway.yaml:7:5: sessions[0].password: expected a string, got a boolean"]


def test_load_names_the_file_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("gateway.yaml").write_text(session("enabled: 2"), encoding="utf-8")
    with pytest.raises(ConfigFileError) as info:
        load("gateway.yaml", {})
    assert str(info.value) == "gateway.yaml:7:5: sessions[0].enabled: expected true or false, got 2"
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.column, problem.key) == (
        "gateway.yaml",
        7,
        5,
        "sessions[0].enabled",
    )
    assert isinstance(info.value, ConfigError)


def test_an_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigFileError, match=r"^missing.yaml: cannot read the file: No such file"):
        load("missing.yaml", {})
    with pytest.raises(ConfigFileError, match=r"^\.: cannot read the file: Is a directory$"):
        load(".", {})


def test_a_file_that_is_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("latin1.yaml").write_bytes(SESSION.encode() + b"    name: caf\xe9\n")
    with pytest.raises(ConfigFileError, match=r"^latin1.yaml:7:14: the file is not UTF-8 text$"):
        load("latin1.yaml", {})


def test_null_where_a_value_is_needed() -> None:
    assert problems(session("heartbeat_interval: null")) == [
        "gateway.yaml:7:5: sessions[0].heartbeat_interval: expected a whole number, got null"
    ]


def test_environment_text_that_is_not_of_the_type_wanted() -> None:
    assert problems(session("limits: {max_orders_per_second: '${RATE}'}"), {"RATE": "fast"}) == [
        'gateway.yaml:7:14: sessions[0].limits.max_orders_per_second: expected a number, got "fast"'
    ]


def test_overrides_leave_a_document_that_is_not_a_mapping_alone() -> None:
    assert problems("- a\n", {"FIX_STORE_DIR": "x", "FIX_LOG_LEVEL": "INFO"}) == [
        "gateway.yaml:1:1: expected a mapping of keys to values, got a list"
    ]


def test_every_unset_variable_of_a_value_is_named() -> None:
    assert problems(session(sender_comp_id="${DESK}-${REGION}-${SITE:-x}")) == [
        "gateway.yaml:5:5: sessions[0].sender_comp_id: environment variables DESK, REGION are "
        "not set (set them, or give defaults: ${DESK:-...})"
    ]
