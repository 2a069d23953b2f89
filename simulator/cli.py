"""`trifix simulate`: run the LP simulator from a configuration file or from flags alone.

    trifix simulate sim.yaml
    trifix simulate --port 9878 --sender-comp-id LP --target-comp-id GW --app echo --reset-on-logon

`simulate` is a typer-annotated function; the trifix CLI registers it as a command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["simulate"]


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
    from simulator._command import main

    main(
        config,
        port,
        host,
        sender_comp_id,
        target_comp_id,
        app,
        reset_on_logon,
        heartbeat,
        username,
        password,
        seed,
        store,
        duration,
    )
