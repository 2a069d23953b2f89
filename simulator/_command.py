"""The work behind `trifix simulate` (imported only when the command runs, so that other
`trifix` commands start without loading the simulator)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import trio
import typer

from simulator.behaviour import Behaviour
from simulator.config import load_simulator_spec
from simulator.server import open_simulator
from simulator.spec import AppMode, SimSessionSpec, SimulatorSpec
from trifix.config import ConfigFileError
from trifix.core.settings import Role, SessionSettings
from trifix.runtime import SessionSpec

_SESSION_FLAGS = (
    "--sender-comp-id",
    "--target-comp-id",
    "--app",
    "--reset-on-logon",
    "--heartbeat",
    "--username",
    "--password",
)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(2)


def main(
    config: Path | None,
    port: int | None,
    host: str | None,
    sender_comp_id: str | None,
    target_comp_id: str | None,
    app: str,
    reset_on_logon: bool,
    heartbeat: int,
    username: str | None,
    password: str | None,
    seed: int | None,
    store: str | None,
    duration: float | None,
) -> None:
    """Run `trifix simulate` with its parsed options (see `simulator.cli.simulate`)."""
    if config is not None:
        given = [
            flag
            for flag, value in zip(
                _SESSION_FLAGS,
                (
                    sender_comp_id,
                    target_comp_id,
                    app != "lp",
                    reset_on_logon,
                    heartbeat != 30,
                    username,
                    password,
                ),
                strict=True,
            )
            if value
        ]
        if given:
            raise _fail(
                f"{', '.join(given)} describe a session without a file: "
                f"set them in {config} instead, or drop the file"
            )
        try:
            spec = load_simulator_spec(config)
        except ConfigFileError as exc:
            raise _fail(f"{config} cannot be used:\n{exc}") from None
    else:
        spec = _spec_from_flags(
            sender_comp_id, target_comp_id, app, reset_on_logon, heartbeat, username, password
        )
    if port is not None and not 0 <= port <= 65535:
        raise _fail(f"--port must be from 0 to 65535, got {port}")
    if duration is not None and not (duration > 0 and math.isfinite(duration)):
        raise _fail("--duration must be a number of seconds above 0")
    changes: dict[str, object] = {}
    if port is not None:
        changes["listen_port"] = port
    elif config is None:
        changes["listen_port"] = 9878
    if host is not None:
        changes["listen_host"] = host
    if seed is not None:
        changes["seed"] = seed
    if store is not None:
        changes["store_path"] = None if store == "memory" else Path(store)
    spec = replace(spec, **changes)  # type: ignore[arg-type]
    try:
        trio.run(_run, spec, duration)
    except KeyboardInterrupt:
        pass
    except (OSError, ExceptionGroup) as exc:
        error = _only_os_error(exc)
        if error is None:
            raise
        where = f"{spec.listen_host}:{spec.listen_port}"
        raise _fail(f"cannot listen on {where}: {error.strerror}; choose another --port") from None


def _only_os_error(exc: BaseException) -> OSError | None:
    """The OSError `exc` is, or the only leaf of a group of groups."""
    while isinstance(exc, BaseExceptionGroup):
        if len(exc.exceptions) != 1:
            return None
        exc = exc.exceptions[0]
    return exc if isinstance(exc, OSError) else None


def _spec_from_flags(
    sender: str | None,
    target: str | None,
    app: str,
    reset_on_logon: bool,
    heartbeat: int,
    username: str | None,
    password: str | None,
) -> SimulatorSpec:
    if not sender or not target:
        raise _fail(
            "give --sender-comp-id and --target-comp-id (e.g. --sender-comp-id LP "
            "--target-comp-id GW), or a configuration file"
        )
    try:
        mode = AppMode(app)
    except ValueError:
        raise _fail(f"--app must be lp or echo, got {app!r}") from None
    if heartbeat < 0:
        raise _fail(f"--heartbeat must be 0 or more seconds, got {heartbeat}")
    if username is not None and password is None:
        raise _fail("--username needs --password: the acceptor checks them together")
    settings = SessionSettings(
        sender,
        target,
        Role.ACCEPTOR,
        heartbeat_interval=heartbeat,
        reset_on_logon=reset_on_logon,
        username=username,
        password=password,
    )
    session = SimSessionSpec(SessionSpec(target, settings), mode, Behaviour())
    return SimulatorSpec([session])


async def _run(spec: SimulatorSpec, duration: float | None) -> None:
    async with open_simulator(spec) as sim:
        ids = ", ".join(f"{s.id} ({s.app.value})" for s in spec.sessions)
        typer.echo(f"simulator listening on {spec.listen_host}:{sim.port}; sessions: {ids}")
        await trio.sleep(math.inf if duration is None else duration)
