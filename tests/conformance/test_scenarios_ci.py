"""CI runs every scenario for real: over loopback TCP, on the wall clock, and fails on any failure.

Three runs at once (the session scripts mostly wait, so they overlap well; the e2e scripts are
busy, so they run in their own process, on the other core):

- every script of ``scenarios/session/`` against the simulator in echo mode (what
  ``trifix conform scenarios/session --simulate echo`` does): the initiator-only ones skip;
- the initiator-applicable scripts against a trifix gateway whose initiator session dials the
  runner's listener (``trifix conform scenarios/session --listen PORT``);
- every script of ``scenarios/e2e/`` through the CLI, ``trifix conform scenarios/e2e`` (each
  starts the simulator and a gateway over TCP), with a JUnit report.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import trio

from conformance.connectors import TcpTarget, open_tcp_listener
from conformance.report import result_line
from conformance.runner import RunOptions, ScriptResult, run_scripts
from conformance.script import Script, load_scripts
from conformance.simcontrol import simulator_control
from simulator import AppMode, SimSessionSpec, SimulatorSpec, open_simulator
from trifix.core.settings import Role, SessionSettings
from trifix.runtime import EngineSpec, ReconnectPolicy, SessionSpec, open_engine
from trifix.trading import LPConfig, open_gateway

ROOT = Path(__file__).parents[2]
SESSION = ROOT / "scenarios" / "session"
E2E = ROOT / "scenarios" / "e2e"


def _failures(results: list[ScriptResult]) -> list[str]:
    return [
        result_line(r) + "\n    " + "\n    ".join(r.transcript)
        for r in results
        if r.status == "failed"
    ]


async def _against_the_simulator(scripts: list[Script], out: list[ScriptResult]) -> None:
    settings = SessionSettings("LP", "GW", Role.ACCEPTOR, reset_on_logon=True)
    spec = SimulatorSpec([SimSessionSpec(SessionSpec("GW", settings), AppMode.ECHO)])
    async with open_simulator(spec) as sim:
        assert sim.port is not None
        options = RunOptions(sim=simulator_control(sim))
        out.extend(await run_scripts(scripts, TcpTarget("127.0.0.1", sim.port), options))


async def _against_the_gateway(scripts: list[Script], out: list[ScriptResult]) -> None:
    async with open_tcp_listener(0) as listener:
        settings = SessionSettings("GW", "LP", Role.INITIATOR, reset_on_logon=True)
        retry = timedelta(milliseconds=50)
        session = SessionSpec(
            "LP",
            settings,
            hosts=[("127.0.0.1", listener.port)],
            reconnect=ReconnectPolicy(initial_delay=retry, max_delay=retry, jitter=0.0),
        )
        async with (
            open_engine(EngineSpec([session])) as engine,
            open_gateway(engine, [LPConfig("LP", "LP", "LP")]),
        ):
            out.extend(await run_scripts(scripts, listener))


async def _e2e_cli(junit: Path, out: dict[str, object]) -> None:
    command = [sys.executable, "-m", "trifix", "conform", str(E2E), "--junit", str(junit)]
    done = await trio.run_process(command, capture_stdout=True, capture_stderr=True, check=False)
    out["returncode"] = done.returncode
    out["stdout"] = done.stdout.decode()
    out["stderr"] = done.stderr.decode()


async def test_every_scenario_passes_over_tcp(tmp_path: Path) -> None:
    scripts, errors = load_scripts([SESSION])
    assert errors == []
    e2e, e2e_errors = load_scripts([E2E])
    assert e2e_errors == []
    assert len(e2e) == 8
    on_sim: list[ScriptResult] = []
    on_gateway: list[ScriptResult] = []
    cli: dict[str, object] = {}
    junit = tmp_path / "e2e.xml"
    with trio.fail_after(170):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_against_the_simulator, scripts, on_sim)
            nursery.start_soon(_against_the_gateway, scripts, on_gateway)
            nursery.start_soon(_e2e_cli, junit, cli)

    assert _failures(on_sim) == []
    assert {r.script.name for r in on_sim if r.status == "passed"} == {
        s.name for s in scripts if Role.ACCEPTOR in s.roles
    }
    assert all(r.script.name.startswith("1S") for r in on_sim if r.status == "skipped")

    assert _failures(on_gateway) == []
    initiator = {s.name for s in scripts if Role.INITIATOR in s.roles}
    assert {r.script.name for r in on_gateway if r.status == "passed"} == initiator
    assert len(initiator) >= 35

    stdout = str(cli["stdout"])
    assert cli["returncode"] == 0, stdout + str(cli["stderr"])
    assert stdout.splitlines()[-1] == f"{len(e2e)} passed, 0 failed"
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == (str(len(e2e)), "0")
