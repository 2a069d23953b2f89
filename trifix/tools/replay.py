"""`trifix replay LOG`: play a recorded FIX log again to reproduce an incident.

`replay_command` is a typer-annotated function; `trifix.cli` registers it as ``replay``. The
work is in `trifix.tools.replay_log` (reading and the session narrative, ``--through
decoder``) and `trifix.tools.replay_sim` (``--through simulator``).

Messages are shown redacted (`trifix.tools.redact`): the narrative is computed from the bytes
as recorded, but no password or full account number reaches the output.

Exit codes: 0 when the replay shows a clean session (no gap, reject, invalid or garbled
message), 1 when it shows one (or the log holds no message, or cannot be replayed), 2 for
usage errors.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Final, NoReturn

import typer

from trifix.tools.decode import Decoded, LogScanner, render_text
from trifix.tools.redact import redact_message
from trifix.tools.replay_log import EVENT_LOG_HINT, Entry, Narrator, is_event_log, read_log

__all__ = ["replay_command"]

FAILED: Final = 1
USAGE: Final = 2
_NARRATIVE: Final = "  >> "


def _fail(text: str, code: int = FAILED) -> NoReturn:
    typer.echo(f"trifix replay: {text}", err=True)
    raise typer.Exit(code)


def _read(path: Path, validate: bool) -> tuple[list[Entry], LogScanner]:
    if is_event_log(path.name):
        _fail(f"{path}: {EVENT_LOG_HINT}", USAGE)
    scanner = LogScanner()
    try:
        with path.open("rb") as stream:
            entries = list(read_log(stream, validate=validate, scanner=scanner))
    except FileNotFoundError:
        _fail(f"file not found: {str(path)!r} (an example: examples/quickfix/)", USAGE)
    except OSError as exc:
        _fail(f"cannot read {str(path)!r}: {exc.strerror}", USAGE)
    if not entries:
        _fail(f"no FIX messages found in {path}")
    return entries, scanner


def _render(d: Decoded, color: bool) -> str:
    """The decoded view of a frame, redacted (passwords never reach a terminal or a ticket)."""
    if d.message is not None:
        d = replace(d, message=redact_message(d.message))
    return render_text(d, color=color).rstrip()


def _headline(d: Decoded, color: bool) -> str:
    """The first line of the decoded view, plus the reject the message would get."""
    lines = _render(d, color).splitlines()
    problems = [line for line in lines[1:] if "Reject 373=" in line or "note:" in line]
    return "\n".join([lines[0], *problems])


def replay_command(
    log: Annotated[
        Path,
        typer.Argument(
            metavar="LOG",
            help="A FIX message log: trifix's, or QuickFIX's *.messages.current.log.",
            show_default=False,
        ),
    ],
    through: Annotated[
        str,
        typer.Option(
            "--through",
            metavar="decoder|simulator",
            help="decoder: decode, validate and narrate what trifix's session layer would do; "
            "simulator: send one side's messages to the simulated LP and show its answers.",
        ),
    ] = "decoder",
    client: Annotated[
        str | None,
        typer.Option(
            "--client",
            metavar="COMPID",
            help="simulator: the side whose messages are sent. [default: the sender of the "
            "first message]",
            show_default=False,
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            min=0,
            metavar="FACTOR",
            help="simulator: keep the log's pauses, divided by FACTOR; 0 sends each message as "
            "soon as the previous one is answered.",
        ),
    ] = 0.0,
    brief: Annotated[
        bool, typer.Option("--brief", help="One line per message instead of every field.")
    ] = False,
    validate: Annotated[
        bool,
        typer.Option("--validate/--no-validate", help="Check messages against FIX 4.4."),
    ] = True,
    color: Annotated[
        bool | None,
        typer.Option(
            "--color/--no-color",
            help="Colour the output. [default: when standard output is a terminal]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Replay a recorded FIX log to reproduce an incident.

    Through the decoder (the default), each message is decoded and validated, and under it
    comes what trifix's session layer, playing the receiver, makes of it: logons, gaps and the
    ResendRequests they cause, gap fills, duplicates, the Rejects and Logouts bad messages get,
    heartbeat timeouts. Through the simulator, the client side's messages are sent as recorded
    to the bundled simulated LP, and its answers are shown.
    """
    if through not in ("decoder", "simulator"):
        _fail(f"--through must be decoder or simulator, got {through!r}", USAGE)
    if color is None:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    entries, scanner = _read(log, validate)
    skipped = f"; {scanner.skipped_lines} other lines skipped" if scanner.skipped_lines else ""
    if through == "decoder":
        narrator = Narrator()
        for entry in entries:
            d = entry.decoded
            typer.echo(_headline(d, color) if brief else _render(d, color))
            for line in narrator.feed(entry):
                typer.echo(f"{_NARRATIVE}{line}")
            if not brief:
                typer.echo("")
        typer.echo(f"{narrator.tally}{skipped}")
        if not narrator.tally.clean:
            raise typer.Exit(FAILED)
        return
    _simulate(entries, client, speed, brief, color)


def _simulate(
    entries: list[Entry], client: str | None, speed: float, brief: bool, color: bool
) -> None:
    import trio  # here: the decoder path needs no event loop

    from trifix.tools.replay_sim import ReplayError, simulate

    def show(direction: str, d: Decoded) -> None:
        text = _headline(d, color) if brief else _render(d, color)
        first, *rest = text.splitlines()
        typer.echo("\n".join([f"{direction} {first}", *rest]))

    try:
        result = trio.run(lambda: simulate(entries, show, client=client, speed=speed))
    except ReplayError as exc:
        _fail(str(exc))
    typer.echo(str(result))
    if result.rejected:
        raise typer.Exit(FAILED)
