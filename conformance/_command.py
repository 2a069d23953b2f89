"""The work behind `trifix conform` (imported only when the command runs, so that other
`trifix` commands start without loading the runner, the simulator and trio)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import trio
import typer

from conformance.connectors import Connector, TcpTarget, open_tcp_listener
from conformance.e2e import run_e2e_scripts
from conformance.e2e_script import E2EScript
from conformance.report import error_line, result_line, summary_line, write_junit
from conformance.runner import RunOptions, ScriptResult, run_scripts, select
from conformance.script import Script, load_scripts
from conformance.simcontrol import simulator_control
from simulator import AppMode, SimSessionSpec, SimulatorSpec, open_simulator
from simulator.config import load_simulator_spec
from trifix.config import ConfigError
from trifix.core.settings import Role, SessionSettings
from trifix.runtime import SessionSpec

USAGE_ERROR = 2


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


def _target_usage_error() -> NoReturn:
    _usage_error(
        "give --target HOST:PORT to test an acceptor, --listen [HOST:]PORT to test an "
        "initiator, or --simulate echo to test the bundled simulator (one of the three)"
    )


def _host_port(value: str, option: str, default_host: str | None) -> tuple[str, int]:
    """HOST:PORT (or PORT alone when there is a default host), or a usage error."""
    host, sep, port = value.rpartition(":")
    if not sep and default_host is not None:
        host = default_host
    if not host or not port.isdigit() or int(port) > 65535:
        form = (
            "HOST:PORT, e.g. 127.0.0.1:9878" if default_host is None else "[HOST:]PORT, e.g. 9878"
        )
        _usage_error(f"{option} {value!r}: write {form}")
    return host.strip("[]"), int(port)


def _simulator_spec(simulate: str) -> SimulatorSpec:
    """The simulator --simulate asks for: the echo session, or a configuration file."""
    if simulate == "echo":
        settings = SessionSettings("LP", "GW", Role.ACCEPTOR, reset_on_logon=True)
        session = SimSessionSpec(SessionSpec("GW", settings), AppMode.ECHO)
        return SimulatorSpec([session], listen_port=0)
    path = Path(simulate)
    if not path.is_file():
        _usage_error(f"--simulate {simulate!r}: write 'echo' or the path of a simulator YAML file")
    try:
        spec = load_simulator_spec(path)
    except (ConfigError, OSError) as exc:
        _usage_error(str(exc))
    return replace(spec, listen_port=0, listen_host="127.0.0.1")


def main(
    paths: Sequence[Path],
    target: str | None,
    listen: str | None,
    junit: Path | None,
    timeout: float,
    script_timeout: float,
    filters: list[str] | None,
    sender_comp_id: str | None,
    target_comp_id: str | None,
    simulate: str | None,
    verbose: bool,
) -> NoReturn:
    """Run `trifix conform` with its parsed options (see `conformance.cli.conform`)."""

    given = sum(x is not None for x in (target, listen, simulate))
    if given > 1:
        _target_usage_error()
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _usage_error(f"no such file or directory: {missing[0]}")
    scripts, errors = load_scripts(list(paths))
    if errors:
        for error in errors:
            typer.echo(error_line(error), err=True)
        _usage_error(f"{len(errors)} script(s) cannot be loaded; fix them and run again")
    scripts = select(scripts, filters or [])
    if not scripts:
        what = " matching --filter" if filters else ""
        _usage_error(f"no scripts{what} under {', '.join(map(str, paths))} (*.yaml files)")
    # e2e scripts start their own simulator and gateway: only session scripts need an engine.
    e2e_scripts = [s for s in scripts if isinstance(s, E2EScript)]
    scripts = [s for s in scripts if not isinstance(s, E2EScript)]
    if scripts and given != 1:
        _target_usage_error()
    sim_spec = _simulator_spec(simulate) if simulate is not None and scripts else None
    options = RunOptions(
        step_timeout=timeout,
        script_timeout=script_timeout,
        sender_comp_id=sender_comp_id,
        target_comp_id=target_comp_id,
    )
    if target is not None:
        endpoint = _host_port(target, "--target", None)
    else:
        endpoint = _host_port(listen or "0", "--listen", "127.0.0.1")

    def report(result: ScriptResult) -> None:
        typer.echo(result_line(result))
        if verbose and result.status == "failed":
            for line in result.transcript:
                typer.echo(f"    {line}")

    results: list[ScriptResult] = []
    if scripts:
        try:
            results = trio.run(
                _run, scripts, endpoint, listen is not None, options, report, sim_spec
            )
        except OSError as exc:
            _usage_error(f"cannot listen on {endpoint[0]}:{endpoint[1]}: {exc.strerror or exc}")
    if e2e_scripts:
        results += trio.run(run_e2e_scripts, e2e_scripts, options, report)
    typer.echo(summary_line(results))
    if junit is not None:
        try:
            write_junit(results, junit)
        except OSError as exc:
            _usage_error(f"cannot write the JUnit report {junit}: {exc.strerror or exc}")
    raise typer.Exit(1 if any(r.status == "failed" for r in results) else 0)


async def _run(
    scripts: list[Script],
    endpoint: tuple[str, int],
    listen: bool,
    options: RunOptions,
    report: Callable[[ScriptResult], None],
    sim_spec: SimulatorSpec | None = None,
) -> list[ScriptResult]:
    host, port = endpoint
    if sim_spec is not None:
        async with open_simulator(sim_spec) as sim:
            assert sim.port is not None
            typer.echo(f"simulator listening on 127.0.0.1:{sim.port}", err=True)
            options = replace(options, sim=simulator_control(sim))
            return await _run_with(scripts, TcpTarget("127.0.0.1", sim.port), options, report)
    if not listen:
        return await _run_with(scripts, TcpTarget(host, port), options, report)
    async with open_tcp_listener(port, host) as listener:
        typer.echo(f"listening on {host}:{listener.port} for the engine under test", err=True)
        return await _run_with(scripts, listener, options, report)


async def _run_with(
    scripts: list[Script],
    connector: Connector,
    options: RunOptions,
    report: Callable[[ScriptResult], None],
) -> list[ScriptResult]:
    return await run_scripts(scripts, connector, options, report)
