"""`trifix simulate`: run the LP simulator from a configuration file or from flags alone.

    trifix simulate sim.yaml
    trifix simulate --port 9878 --sender-comp-id LP --target-comp-id GW --app echo --reset-on-logon

`simulate` is a typer-annotated function; the trifix CLI registers it as a command.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import trio
import typer

from simulator.behaviour import Behaviour
from simulator.config import load_simulator_spec
from simulator.server import open_simulator
from simulator.spec import AppMode, SimSessionSpec, SimulatorSpec
from trifix.config import ConfigFileError
from trifix.core.settings import Role, SessionSettings
from trifix.runtime import SessionSpec

__all__ = ["simulate"]

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


def simulate(
    config: Annotated[
        Optional[Path],  # noqa: UP045 - typer reads the annotation at run time
        typer.Argument(help="Simulator YAML (docs/simulator.md); omit to use the flags alone."),
    ] = None,
    port: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="Port to listen on (0 picks a free one); overrides listen.port."),
    ] = None,
    host: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Address to listen on; overrides listen.host."),
    ] = None,
    sender_comp_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--sender-comp-id", help="Our CompID (without a file)."),
    ] = None,
    target_comp_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--target-comp-id", help="The peer's CompID (without a file)."),
    ] = None,
    app: Annotated[str, typer.Option(help="lp or echo (without a file).")] = "lp",
    reset_on_logon: Annotated[
        bool, typer.Option("--reset-on-logon", help="Reset sequence numbers on every Logon.")
    ] = False,
    heartbeat: Annotated[int, typer.Option(help="HeartBtInt in seconds (without a file).")] = 30,
    username: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Username (553) the peer's Logon must carry (without a file)."),
    ] = None,
    password: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Password (554) the peer's Logon must carry (without a file)."),
    ] = None,
    seed: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="Seed of the market and the random behaviours; overrides the file's."),
    ] = None,
    store: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help='"memory" (default) or an LMDB directory; overrides the file\'s.'),
    ] = None,
    duration: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(help="Stop after this many seconds (default: until interrupted)."),
    ] = None,
) -> None:
    """Run the LP simulator: an acceptor for FIX initiators to test against."""
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
