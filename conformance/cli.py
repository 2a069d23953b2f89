"""`trifix conform`: run conformance scripts against a FIX engine and report.

`conform` is a typer-annotated function; the `trifix` command registers it. Exit codes: 0 when
every script that applies passed, 1 when any failed, 2 for usage errors (the message says how to
fix them), which include scripts that cannot be loaded. The work is in `conformance._command`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["conform"]


def conform(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Script files or directories of *.yaml scripts, e.g. scenarios/session."
        ),
    ],
    target: Annotated[
        str | None,
        typer.Option(
            "--target", metavar="HOST:PORT", help="Test an acceptor: connect to it at HOST:PORT."
        ),
    ] = None,
    listen: Annotated[
        str | None,
        typer.Option(
            "--listen",
            metavar="[HOST:]PORT",
            help="Test an initiator: listen here (127.0.0.1 by default) for it to connect.",
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", metavar="FILE", help="Write a JUnit XML report.")
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=0.001,
            help="Seconds a step waits (connect, expect...) unless the script says otherwise.",
        ),
    ] = 5.0,
    script_timeout: Annotated[
        float,
        typer.Option(
            "--script-timeout", min=0.001, help="Cap on one script's run unless it sets its own."
        ),
    ] = 60.0,
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-k",
            metavar="PATTERN",
            help="Run only scripts whose name or case matches (glob or substring); repeatable.",
        ),
    ] = None,
    sender_comp_id: Annotated[
        str | None,
        typer.Option("--sender-comp-id", help="Our CompID (default GW, or LP with --listen)."),
    ] = None,
    target_comp_id: Annotated[
        str | None,
        typer.Option(
            "--target-comp-id", help="The engine's CompID (default LP, or GW with --listen)."
        ),
    ] = None,
    simulate: Annotated[
        str | None,
        typer.Option(
            "--simulate",
            metavar="echo|CONFIG",
            help=(
                "Start the simulator in-process and test it (echo: one echo session LP/GW "
                "resetting on Logon; or a simulator YAML file); enables the scripts' sim steps."
            ),
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print the transcript of failing scripts.")
    ] = False,
) -> None:
    """Run FIX conformance scripts against an engine and print PASS/FAIL per script.

    Ends with "N passed, M failed"; exit code 0 when all passed, 1 when any failed.
    """
    from conformance._command import main

    main(
        paths,
        target,
        listen,
        junit,
        timeout,
        script_timeout,
        filters,
        sender_comp_id,
        target_comp_id,
        simulate,
        verbose,
    )
