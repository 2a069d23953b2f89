"""E2e scripts: loading checks every key, step and check; a run passes when the world behaves and
fails with the first difference when it does not (each run is a real simulator and gateway over
loopback TCP, so the scripts here are small)."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from conformance.cli import conform
from conformance.e2e import run_e2e_script
from conformance.e2e_checks import stat_value
from conformance.e2e_env import RssSampler
from conformance.e2e_script import Comparison, E2EScript
from conformance.report import result_line
from conformance.runner import RunOptions, ScriptResult, run_script
from conformance.script import ScriptError, load_script
from trifix.core.settings import Role
from trifix.trading import OrderState

from .harness import in_process

HEADER = """\
kind: e2e
case: T-1
title: a test
step_timeout: 0.3
simulator:
  seed: 1
  tick_interval: 0.05
  instruments:
    - {symbol: EURUSD, bid: 1.08500, offer: 1.08510, tick: 0.00001, min_qty: 1, max_qty: 1000000}
  behaviour: {fill: immediate}
gateway: {throttle: {rate: 400, burst: 20}}
"""


def e2e(steps: str, header: str = HEADER, path: Path = Path("t.yaml")) -> E2EScript:
    script = load_script(path, header + "steps:\n" + textwrap.indent(textwrap.dedent(steps), "  "))
    assert isinstance(script, E2EScript)
    return script


async def run(steps: str, header: str = HEADER) -> ScriptResult:
    return await run_e2e_script(e2e(steps, header), RunOptions(step_timeout=0.3))


# -- loading ------------------------------------------------------------------------------------


def test_a_script_loads_into_steps_with_checked_arguments() -> None:
    script = e2e(
        """\
        - wait_logged_on
        - place: {id: A, symbol: EURUSD, side: sell, qty: 1000, price: 1.1}
        - wait_order: {id: A, status: [new, filled], timeout: 2}
        - note: checks
          assert: [{order: {id: A, cum_qty: ">= 1"}}, seq_in_sync, {memory: 64}]
        """
    )
    assert script.roles == frozenset()
    assert script.gateway.throttle is not None
    assert script.gateway.throttle.burst == 20
    assert [s.kind for s in script.steps] == ["wait_logged_on", "place", "wait_order", "assert"]
    place = script.steps[1].args  # type: ignore[attr-defined]
    assert (place["qty"], place["price"], place["side"].name) == (
        Decimal(1000),
        Decimal("1.1"),
        "SELL",
    )
    wait = script.steps[2].args  # type: ignore[attr-defined]
    assert wait["status"] == {OrderState.NEW, OrderState.FILLED}
    checks = script.steps[3].args["checks"]  # type: ignore[attr-defined]
    assert [name for name, _ in checks] == ["order", "seq_in_sync", "memory"]
    assert script.steps[3].note == "checks"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: e2e\ncase: x\nsteps: [wait_logged_on]\nroles: [acceptor]\n", "unknown key 'roles'"),
        ("kind: e2e\nsteps: [wait_logged_on]\n", "'case' is required"),
        ("kind: e2e\ncase: x\n", "'steps' must be a non-empty list"),
        ("kind: fuzz\ncase: x\nsteps: [connect]\n", "kind: 'fuzz' is 'session'"),
        ("kind: e2e\ncase: x\nsimulator: {seed: -1}\nsteps: [wait_logged_on]\n", "seed: -1"),
        (
            "kind: e2e\ncase: x\nsimulator: {colour: red}\nsteps: [wait_logged_on]\n",
            "unknown key 'colour'",
        ),
        (
            "kind: e2e\ncase: x\nsimulator: {behaviour: {fill: sometimes}}\n"
            "steps: [wait_logged_on]\n",
            "simulator.behaviour: 'sometimes' is not a valid FillModel",
        ),
        (
            "kind: e2e\ncase: x\nsimulator: {behaviour: {speed: 3}}\nsteps: [wait_logged_on]\n",
            "simulator.behaviour:",
        ),
        (
            "kind: e2e\ncase: x\nsimulator: {instruments: [{symbol: X, bid: 1}]}\n"
            "steps: [wait_logged_on]\n",
            "'offer' is required",
        ),
        (
            "kind: e2e\ncase: x\nsimulator: {instruments: [{symbol: X, bid: a, offer: 1, "
            "tick: 1}]}\nsteps: [wait_logged_on]\n",
            "bid: 'a' is not a decimal number",
        ),
        (
            "kind: e2e\ncase: x\nsimulator: {tick_interval: 0}\nsteps: [wait_logged_on]\n",
            "tick_interval",
        ),
        (
            "kind: e2e\ncase: x\nsimulator: {file: nope.yaml}\nsteps: [wait_logged_on]\n",
            "simulator file",
        ),
        (
            "kind: e2e\ncase: x\nsimulator: {file: a.yaml, seed: 1}\nsteps: [wait_logged_on]\n",
            "'file' is the whole configuration",
        ),
        (
            "kind: e2e\ncase: x\ngateway: {throttle: {burst: 2}}\nsteps: [wait_logged_on]\n",
            "'rate'",
        ),
        (
            "kind: e2e\ncase: x\ngateway: {throttle: {rate: 0}}\nsteps: [wait_logged_on]\n",
            "more than 0",
        ),
        (
            "kind: e2e\ncase: x\ngateway: {heartbeat: 0}\nsteps: [wait_logged_on]\n",
            "at least 1 second",
        ),
        ("kind: e2e\ncase: x\ngateway: []\nsteps: [wait_logged_on]\n", "gateway must be a mapping"),
    ],
)
def test_header_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(ScriptError) as info:
        load_script(Path("t.yaml"), text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("- fly", "unknown e2e step 'fly'"),
        ("- {place: {id: A, symbol: EURUSD}, cancel: A}", "a step is one of"),
        ("- 42", "a step is one of"),
        ("- place: {symbol: EURUSD, qty: 1}", "place needs an 'id'"),
        ("- place: {id: A, symbol: EURUSD}", "needs 'symbol' and 'qty'"),
        ("- place: {id: A, symbol: EURUSD, qty: 1, side: up}", "side: 'up' is buy or sell"),
        ("- place: {id: A, symbol: EURUSD, qty: x}", "qty: 'x' is not a decimal"),
        ("- burst: {symbol: EURUSD, qty: 1}", "a 'count' of at least 1"),
        ("- cancel: {}", "name the order"),
        ("- replace: {id: A}", "a new 'qty', a new 'price'"),
        ("- subscribe: {depth: 1}", "needs 'symbols'"),
        ("- unsubscribe: {timeout: 1}", "name the 'symbol'"),
        ("- request_quote: {symbol: EURUSD}", "'as'"),
        ("- trade_quote: {quote: q}", "trade_quote needs id, qty"),
        ("- wait_order: {id: A}", "needs an 'id' and a 'status'"),
        ("- wait_order: {id: A, status: done}", "each status is one of"),
        ("- wait_orders: {prefix: R}", "needs a 'status'"),
        ("- wait_session: {of: gateway}", "statistics to wait for"),
        ("- wait_session: {of: lp, connects: 1}", "'of' is gateway or simulator"),
        ("- wait_session: {connects: lots}", "connects: 'lots' is not a number"),
        ("- sim: {action: explode}", "action 'explode' is not one of"),
        ("- sim: {action: drop_heartbeats, args: {on: false}}", "quote YAML's on/off"),
        ("- sim: {action: flood, args: [1]}", "sim args must be a mapping"),
        ("- reset_memory: now", "takes no arguments"),
        ("- assert: []", "assert takes a list of checks"),
        ("- assert: [sparkle]", "unknown check 'sparkle'"),
        ("- assert: [{order: {status: new}}]", "name the order's 'id'"),
        ("- assert: [{a: 1, b: 2}]", "a check is one of"),
        ("- assert: [{session: {}}]", "name statistics to check"),
        ("- assert: [{memory: {}}]", "needs 'max_growth_mb'"),
        ("- assert: [{orders: {count: many}}]", "count: 'many'"),
        ("- assert: [{throttle: {rate: fast}}]", "rate: 'fast'"),
    ],
)
def test_step_errors_name_the_line_and_step(step: str, message: str) -> None:
    with pytest.raises(ScriptError) as info:
        e2e("- wait_logged_on\n" + step + "\n")
    assert (info.value.step, info.value.line) == (2, HEADER.count("\n") + 3)
    assert message in info.value.message


def test_the_simulator_from_a_file_next_to_the_script(tmp_path: Path) -> None:
    (tmp_path / "sim.yaml").write_text(
        "listen: {port: 0}\nsessions:\n  - {id: A, role: acceptor, sender_comp_id: LPX, "
        "target_comp_id: GWX}\nsimulator: {seed: 4}\n"
    )
    script = load_script(
        tmp_path / "s.yaml",
        "kind: e2e\ncase: x\nsimulator: {file: sim.yaml}\nsteps: [wait_logged_on]\n",
    )
    assert isinstance(script, E2EScript)
    assert script.simulator is not None
    assert script.simulator.seed == 4
    (tmp_path / "two.yaml").write_text(
        "listen: {port: 0}\nsessions:\n  - {id: A, role: acceptor, sender_comp_id: L, "
        "target_comp_id: G}\n  - {id: B, role: acceptor, sender_comp_id: L2, target_comp_id: G}\n"
    )
    with pytest.raises(ScriptError, match="configure exactly one"):
        load_script(
            tmp_path / "s.yaml",
            "kind: e2e\ncase: x\nsimulator: {file: two.yaml}\nsteps: [wait_logged_on]\n",
        )


def test_comparisons_and_statistics() -> None:
    assert Comparison.parse(">= 2", "x").holds(Decimal(2))
    assert not Comparison.parse("< 2", "x").holds(Decimal(2))
    assert Comparison.parse(3, "x").holds(Decimal(3))
    assert str(Comparison.parse("> 1.5", "x")) == "> 1.5"
    with pytest.raises(Exception, match="not a number"):
        Comparison.parse(True, "x")
    sampler = RssSampler()
    sampler.sample()
    assert sampler.growth() >= 0


# -- running --------------------------------------------------------------------------------


async def test_a_passing_run_and_its_transcript() -> None:
    result = await run(
        """\
        - wait_logged_on
        - subscribe: EURUSD
        - wait_book: EURUSD
        - burst: {count: 30, prefix: R, symbol: EURUSD, qty: 1000, price: 1.2}
        - wait_orders: {prefix: R, status: filled, count: 30, timeout: 5}
        - place: {id: S1, symbol: EURUSD, side: sell, qty: 1000, price: 1.5}
        - sim: {action: set_behaviour, args: {fill: none}}
        - place: {id: NEW, symbol: EURUSD, side: sell, qty: 1000, price: 1.5}
        - wait_order: {id: NEW, status: new}
        - replace: {id: NEW, price: 1.6}
        - wait_order: {id: NEW, status: replaced}
        - cancel: NEW
        - request_status: S1
        - request_quote: {symbol: EURUSD, qty: 1000, as: q}
        - trade_quote: {quote: q, id: Q, qty: 1000}
        - wait_orders: {prefix: Q, status: filled, timeout: 5}
        - unsubscribe: EURUSD
        - reset_memory
        - wait: 0.01
        - assert:
            - {orders: {prefix: R, count: 30, status: filled}}
            - {order: {id: Q, status: filled, cum_qty: 1000, fills: 1}}
            - {order: {id: NEW, status: canceled}}
            - {throttle: {min_orders: 30}}
            - {session: {logged_on: 1, event_counts.LoggedOn: 1}}
            - {sim_session: {messages_in_by_type.D: ">= 32"}}
            - {memory: 256}
            - orders_known
            - seq_in_sync
            - delivered_once
            - {no_alerts: [duplicate, overfill, malformed, unknown_order, reject]}
        """
    )
    assert result.status == "passed", result_line(result) + "\n" + "\n".join(result.transcript)
    assert any(line.startswith("> burst: 30 orders placed") for line in result.transcript)
    assert "= throttle holds" in result.transcript


@pytest.mark.parametrize(
    ("steps", "failure"),
    [
        (
            "- place: {id: A, symbol: EURUSD, qty: 1000, price: 1.2}\n"
            "- wait_order: {id: A, status: filled}\n"
            "- assert: [{order: {id: A, status: canceled}}]",
            "step 4 (assert, line 16): order: not within 0.3 s: order A: status expected "
            "canceled, got filled",
        ),
        (
            "- place: {id: A, symbol: EURUSD, qty: 1000, price: 1.2}\n"
            "- wait_order: {id: A, status: filled}\n"
            "- assert: [{order: {id: A, cum_qty: 5}}]",
            "order A: cum_qty expected == 5, got 1000",
        ),
        ("- assert: [{order: {id: Z}}]", "order Z: unknown to the gateway"),
        ("- assert: [{orders: {count: 1}}]", "orders: count expected == 1, got 0"),
        ("- assert: [{book: EURUSD}]", "book EURUSD: the gateway has none"),
        ("- assert: [{session: {bogus: 1}}]", "gateway session: no statistic 'bogus'"),
        ("- assert: [{sim_session: {connects: 7}}]", "simulator session connects: expected == 7"),
        ("- assert: [{throttle: {min_orders: 3}}]", "throttle: at least 3 orders sent, got 0"),
        (
            "- burst: {count: 30, symbol: EURUSD, qty: 1000, price: 1.2}\n"
            "- assert: [{throttle: {rate: 100, burst: 5}}]",
            "throttle: at most 100/s with bursts of 5, got order 6 of 30",
        ),
        (
            "- place: {id: A, symbol: EURUSD, qty: 9999999, price: 1.2}\n"
            "- wait_order: {id: A, status: rejected}\n"
            "- assert: [{no_alerts: [reject]}]",
            "no alerts of reject, got 1: reject",
        ),
        (
            "- sim: {action: set_behaviour, args: {fill: none}}\n"
            "- place: {id: A, symbol: EURUSD, qty: 1000, price: 1.2}\n"
            "- assert: [{orders: {status: filled}}]",
            "1 of 1 orders not filled, e.g. A: ",
        ),
        ("- wait_order: {id: A, status: new}", "order A new: not within 0.3 s: unknown order"),
        ("- wait_orders: {status: new, count: 2}", "0 orders, not 2"),
        ("- wait_disconnected", "disconnected: not within 0.3 s: still connected"),
        ("- wait_session: {nothing: 1}", "wait_session: no statistic 'nothing'"),
        ("- wait_session: {connects: 5}", "connects is 1, not == 5"),
        ("- cancel: nope", "cancel: UnknownOrderError: no order has ClOrdID 'nope'"),
        ("- trade_quote: {quote: q, id: T, qty: 1}", "no quote named 'q'"),
        ("- sim: {action: induce_gap, args: {count: 1}, expect: 1}", "expected a result == 1"),
        ("- sim: {action: induce_gap, args: {count: 0}}", "count must be at least 1"),
        (
            "- sim: {action: flood, args: {rate: 10, count: 1}, background: true}\n- join",
            "a background sim step failed: session GW has no market data subscription",
        ),
        (
            "- sim: {action: set_behaviour, args: {fill: none}, background: true}\n"
            "- sim: {action: disconnect, background: true}\n- join: 0.5",
            "",
        ),
    ],
)
async def test_failures_show_the_first_difference(steps: str, failure: str) -> None:
    result = await run("- wait_logged_on\n" + steps + "\n")
    if not failure:
        assert result.status == "passed", result.reason
        return
    line = result_line(result)
    assert result.status == "failed"
    assert failure in line, line


async def test_a_script_over_its_cap_fails_and_errors_are_reasons() -> None:
    slow = await run("- wait: 5\n", HEADER + "timeout: 0.5\n")
    assert (slow.status, slow.reason) == ("failed", "the script ran over its 0.5 s cap")
    dup = await run(
        "- wait_logged_on\n- place: {id: A, symbol: EURUSD, qty: 1, price: 1.2}\n"
        "- place: {id: A, symbol: EURUSD, qty: 1, price: 1.2}\n"
    )
    assert "DuplicateClOrdIDError" in dup.reason


async def test_the_session_runner_skips_e2e_scripts() -> None:
    script = e2e("- wait\n".replace("wait", "wait: 0"))
    async with in_process(Role.ACCEPTOR) as (connector, _):
        result = await run_script(script, connector)
    assert result.status == "skipped"


def test_stat_value_reads_fields_and_counters() -> None:
    class Stats:
        connects = 2
        logged_on = True
        peer = "x"
        event_counts = {"GapDetected": 1}

    stats = Stats()
    assert stat_value(stats, "connects") == 2  # type: ignore[arg-type]
    assert stat_value(stats, "logged_on") == 1  # type: ignore[arg-type]
    assert stat_value(stats, "event_counts.GapDetected") == 1  # type: ignore[arg-type]
    assert stat_value(stats, "event_counts.Nope") == 0  # type: ignore[arg-type]
    assert stat_value(stats, "peer") is None  # type: ignore[arg-type]
    assert stat_value(stats, "connects.x") is None  # type: ignore[arg-type]


def test_conform_runs_e2e_scripts_without_a_target(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        HEADER + "steps:\n  - wait_logged_on\n  - assert: [{order: {id: X}}]\n"
    )
    app = typer.Typer()
    app.command()(conform)
    result = CliRunner().invoke(app, [str(tmp_path)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("FAIL t: step 2 (assert, line 14): order: not within 0.3 s")
    assert lines[-1] == "0 passed, 1 failed"
