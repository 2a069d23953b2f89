"""Hot reload: diff() sorts changes, apply() hands the reloadable ones to a (fake) engine."""

from __future__ import annotations

import logging
from datetime import time, timedelta

import pytest

from trifix.config import (
    ConfigChange,
    GatewayConfig,
    SessionChange,
    apply,
    diff,
    to_engine_spec,
)
from trifix.runtime.schedule import Schedule
from trifix.runtime.specs import SessionSpec, ThrottleSettings

from .helpers import parse

BASE = """\
log_level: INFO
store: {path: store}
sessions:
  - id: LP1
    host: a.example
    port: 1
    sender_comp_id: GW
    target_comp_id: LP1
    password: one
  - id: LP2
    host: b.example
    port: 2
    sender_comp_id: GW
    target_comp_id: LP2
"""


def edit(*replacements: tuple[str, str], text: str = BASE) -> GatewayConfig:
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    return parse(text)


def test_no_change_is_empty() -> None:
    change = diff(parse(BASE), parse(BASE + "# a comment\n"))
    assert not change
    assert not change.needs_restart
    assert change == ConfigChange(parse(BASE), parse(BASE))


@pytest.mark.parametrize(
    "extra",
    [
        "    trading_hours: {non_stop: true}\n",  # the default schedule, written out
    ],
)
def test_a_value_written_out_as_its_default_is_still_a_change_of_keys(extra: str) -> None:
    # trading_hours: None and a non-stop block build the same schedule, but the file changed
    # that key: it is reported (and reloading it is harmless).
    change = diff(parse(BASE), parse(BASE + extra))
    assert change.sessions == (SessionChange("LP2", "changed", reloadable=("trading_hours",)),)


def test_reloadable_session_changes() -> None:
    new = edit(
        ("    password: one\n", "    password: one\n    enabled: false\n    name: First\n"),
        (
            "    target_comp_id: LP2\n",
            "    target_comp_id: LP2\n"
            "    reconnection: {max_attempts: 3}\n"
            "    limits: {max_orders_per_second: 5}\n"
            "    trading_hours: {open_time: '09:00', close_time: '17:00'}\n",
        ),
    )
    change = diff(parse(BASE), new)
    assert change.sessions == (
        SessionChange("LP1", "changed", reloadable=("enabled", "name")),
        SessionChange("LP2", "changed", reloadable=("limits", "reconnection", "trading_hours")),
    )
    assert change
    assert not change.needs_restart


@pytest.mark.parametrize(
    ("old", "new", "keys"),
    [
        ("password: one", "password: two", ("password",)),
        ("    password: one\n", "    password: one\n    username: u\n", ("username",)),
        ("host: a.example", "host: c.example", ("host",)),
        ("port: 1", "port: 3", ("port",)),
        (
            "    host: a.example\n    port: 1\n",
            "    hosts: [{host: a.example, port: 1}]\n",
            ("host", "hosts", "port"),
        ),
        ("    password: one\n", "    password: one\n    ssl: true\n", ("ssl",)),
        ("target_comp_id: LP1", "target_comp_id: LP9", ("target_comp_id",)),
        ("sender_comp_id: GW", "sender_comp_id: GX", ("sender_comp_id",)),
        (
            "    password: one\n",
            "    password: one\n    heartbeat_interval: 5\n",
            ("heartbeat_interval",),
        ),
        ("    password: one\n", "    password: one\n    fix: {reset_on_logon: true}\n", ("fix",)),
        (
            "    password: one\n",
            "    password: one\n    trading_account: '7'\n",
            ("trading_account",),
        ),
    ],
)
def test_restart_session_changes(old: str, new: str, keys: tuple[str, ...]) -> None:
    change = diff(parse(BASE), edit((old, new)))
    assert change.sessions == (SessionChange("LP1", "changed", restart=keys),)
    assert change.needs_restart


def test_a_session_with_both_kinds_of_change() -> None:
    new = edit(("port: 1", "port: 9\n    enabled: false"))
    (session,) = diff(parse(BASE), new).sessions
    assert (session.reloadable, session.restart) == (("enabled",), ("port",))
    assert session.needs_restart


def test_added_and_removed_sessions() -> None:
    lp3 = "  - {id: LP3, host: c, port: 3, sender_comp_id: GW, target_comp_id: LP3}\n"
    without_lp1 = BASE.replace(BASE[BASE.index("  - id: LP1") : BASE.index("  - id: LP2")], "")
    change = diff(parse(BASE), parse(without_lp1 + lp3))
    assert change.sessions == (SessionChange("LP3", "added"), SessionChange("LP1", "removed"))
    assert change.needs_restart  # the removal
    added_only = diff(parse(BASE), parse(BASE + lp3))
    assert added_only.sessions == (SessionChange("LP3", "added"),)
    assert not added_only.needs_restart


def test_top_level_changes() -> None:
    change = diff(
        parse(BASE),
        edit(
            ("log_level: INFO", "log_level: debug\nlisten: {port: 9}\nmetrics: {enabled: true}"),
            ("store: {path: store}", "store: {path: elsewhere}"),
        ),
    )
    assert (change.reloadable, change.restart) == (("log_level",), ("listen", "metrics", "store"))
    assert change.sessions == ()
    assert change.needs_restart
    only_level = diff(parse(BASE), edit(("log_level: INFO", "log_level: ERROR")))
    assert only_level
    assert not only_level.needs_restart


def test_the_change_repr_holds_no_secret() -> None:
    change = diff(parse(BASE), edit(("password: one", "password: two")))
    assert "one" not in repr(change)
    assert "two" not in repr(change)


class FakeEngine:
    """Records what `apply` asks of the engine."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, SessionSpec]] = []

    def reconfigure_session(self, spec: SessionSpec) -> None:
        self.calls.append(("reconfigure", spec))

    async def add_session(self, spec: SessionSpec) -> None:
        self.calls.append(("add", spec))


async def test_apply_reconfigures_with_only_the_reloadable_parts_replaced() -> None:
    old = parse(BASE)
    new = edit(
        ("port: 1", "port: 9"),  # needs a restart: must not reach the engine
        (
            "    password: one\n",
            "    password: two\n"  # needs a restart too
            "    enabled: false\n"
            "    reconnection: {initial_delay: 5s, max_delay: 10s}\n"
            "    limits: {max_orders_per_second: 2}\n"
            "    trading_hours: {open_time: '08:00', close_time: '18:00'}\n",
        ),
    )
    engine = FakeEngine()
    lines = await apply(engine, diff(old, new), to_engine_spec(new))
    assert lines == [
        "LP1: applied enabled, limits, reconnection, trading_hours",
        "LP1: needs a restart for password, port",
    ]
    ((call, spec),) = engine.calls
    running = to_engine_spec(old).sessions[0]
    assert call == "reconfigure"
    assert (spec.id, spec.hosts, spec.settings, spec.tls) == (
        running.id,
        running.hosts,
        running.settings,
        running.tls,
    )
    assert spec.settings.password == "one"
    assert spec.schedule == Schedule.daily(time(8), time(18))
    assert spec.reconnect.initial_delay == timedelta(seconds=5)
    assert spec.throttle == ThrottleSettings(2.0)
    assert spec.enabled is False


async def test_apply_adds_new_sessions_and_reports_removed_ones() -> None:
    lp3 = "  - {id: LP3, host: c, port: 3, sender_comp_id: GW, target_comp_id: LP3}\n"
    lp4 = "  - {id: LP4, host: d, port: 4, sender_comp_id: GW, target_comp_id: LP4, enabled: no}\n"
    old = parse(BASE)
    new = parse(BASE[: BASE.index("  - id: LP2")] + lp3 + lp4)
    new_spec = to_engine_spec(new)
    engine = FakeEngine()
    lines = await apply(engine, diff(old, new), new_spec)
    assert lines == [
        "LP3: added",
        "LP4: added (disabled)",
        "LP2: removed from the file; it runs until a restart",
    ]
    assert engine.calls == [("add", new_spec.sessions[1]), ("add", new_spec.sessions[2])]


async def test_apply_sets_the_log_level_and_lists_top_level_restarts() -> None:
    new = edit(("log_level: INFO", "log_level: DEBUG\nmetrics: {port: 9999}"))
    levels: list[str] = []
    lines = await apply(
        FakeEngine(), diff(parse(BASE), new), to_engine_spec(new), set_log_level=levels.append
    )
    assert lines == ["log_level: INFO -> DEBUG", "metrics: needs a restart"]
    assert levels == ["DEBUG"]


async def test_apply_sets_the_trifix_logger_level_by_default() -> None:
    logger = logging.getLogger("trifix")
    before = logger.level
    try:
        new = edit(("log_level: INFO", "log_level: ERROR"))
        await apply(FakeEngine(), diff(parse(BASE), new), to_engine_spec(new))
        assert logger.level == logging.ERROR
    finally:
        logger.setLevel(before)


async def test_apply_wants_the_spec_of_the_new_configuration() -> None:
    new = edit(("port: 1", "port: 1\n    enabled: false"))
    with pytest.raises(ValueError, match="new_spec has no session 'LP1'"):
        await apply(
            FakeEngine(),
            diff(parse(BASE), new),
            to_engine_spec(
                parse("sessions: [{id: X, host: h, port: 1, sender_comp_id: A, target_comp_id: B}]")
            ),
        )


ACCEPTOR = "  - {id: C1, role: acceptor, sender_comp_id: GW, target_comp_id: C1}\n"


EDITED = """\
log_level: DEBUG
store: {path: moved}
sessions:
  - id: LP1
    host: a.example
    port: 9
    enabled: false
    sender_comp_id: GW
    target_comp_id: LP1
    password: one
  - {id: LP3, host: c, port: 3, sender_comp_id: GW, target_comp_id: LP3}
"""
LP2 = BASE[BASE.index("  - id: LP2") :]


def test_reloaded_keeps_what_needs_a_restart() -> None:
    old = parse(BASE)
    running = diff(old, parse(EDITED)).reloaded()
    assert running.log_level == "DEBUG"  # reloadable
    assert running.store == old.store  # needs a restart
    assert running.session_ids == ("LP1", "LP3", "LP2")  # LP2, removed, still runs
    lp1 = running.sessions[0]
    assert (lp1.port, lp1.enabled) == (1, False)
    # Adding LP2 back is no change for the engine; LP1's port and the store still wait.
    change = diff(running, parse(EDITED + LP2))
    assert change.sessions == (SessionChange("LP1", "changed", restart=("port",)),)
    assert change.restart == ("store",)


async def test_a_new_acceptor_waits_for_a_new_listening_port() -> None:
    old = parse(BASE)
    new = parse("listen: {port: 9878}\n" + BASE + ACCEPTOR)
    change = diff(old, new)
    assert change.sessions == (SessionChange("C1", "added", restart=("listen",)),)
    assert change.restart == ("listen",)
    assert change.reloaded() == old  # nothing of it runs before a restart
    engine = FakeEngine()
    lines = await apply(engine, change, to_engine_spec(new))
    assert lines == ["C1: new; needs a restart for listen", "listen: needs a restart"]
    assert engine.calls == []


def test_a_new_acceptor_cannot_take_the_compids_of_a_running_one() -> None:
    listen = "listen: {port: 9878}\n"
    old = parse(listen + BASE + ACCEPTOR)
    renamed = parse(listen + BASE + ACCEPTOR.replace("{id: C1", "{id: C2"))
    change = diff(old, renamed)
    assert change.sessions == (
        SessionChange("C2", "added", restart=("sender_comp_id", "target_comp_id")),
        SessionChange("C1", "removed"),
    )
    assert change.reloaded() == old
    other = parse(listen + BASE + ACCEPTOR + ACCEPTOR.replace("C1", "C2"))
    assert diff(old, other).sessions == (SessionChange("C2", "added"),)
    assert diff(old, other).reloaded() == other


async def test_apply_a_session_change_of_one_kind() -> None:
    reload_only = edit(("port: 1", "port: 1\n    limits: {max_orders_per_second: 1}"))
    engine = FakeEngine()
    lines = await apply(engine, diff(parse(BASE), reload_only), to_engine_spec(reload_only))
    assert lines == ["LP1: applied limits"]
    assert [call for call, _ in engine.calls] == ["reconfigure"]
    restart_only = edit(("password: one", "password: two"))
    engine = FakeEngine()
    lines = await apply(engine, diff(parse(BASE), restart_only), to_engine_spec(restart_only))
    assert lines == ["LP1: needs a restart for password"]
    assert engine.calls == []
