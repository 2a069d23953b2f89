"""The `trifix` command: argument parsing and output only; the work is in `trifix.tools`.

Exit codes follow the usual convention: 0 when everything read was valid, 1 when something was
invalid or garbled (or nothing was found), 2 for usage errors (click's own code for them).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, BinaryIO, NoReturn

import typer

from conformance.cli import conform
from simulator.cli import simulate
from trifix import __version__
from trifix.core.validate import Validator

if TYPE_CHECKING:
    from trifix.tools.run import GatewaySetup, WebOptions
from trifix.tools.decode import LogScanner, Tally, decode, render_json, render_text
from trifix.tools.replay import replay_command
from trifix.tools.store import store_app

app = typer.Typer(
    name="trifix",
    help="trifix: a FIX 4.4 engine and gateway on trio.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rewraps docstrings, keeps "[default: ...]"
)

USAGE_ERROR = 2


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"trifix {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """trifix: a FIX 4.4 engine and gateway on trio."""


@contextmanager
def _open_input(path: str) -> Iterator[BinaryIO]:
    """The input as a binary stream; usage errors exit with code 2 and say what to do."""
    if path == "-":
        stdin = typer.get_binary_stream("stdin")
        if stdin.isatty():
            _usage_error(
                "no input: give a log file, or pipe messages in "
                "(for example: trifix decode examples/sample.log)"
            )
        yield stdin
        return
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below; the with-block is the caller's)
    except FileNotFoundError:
        _usage_error(
            f"file not found: {path!r}. Check the path, or give '-' to read standard input "
            "(a bundled example: examples/sample.log)."
        )
    except OSError as exc:  # a directory, no permission...
        _usage_error(f"cannot read {path!r}: {exc.strerror}. Give the path of a FIX log file.")
    with f:
        yield f


def _usage_error(text: str, command: str = "decode") -> NoReturn:
    typer.echo(f"trifix {command}: {text}", err=True)
    raise typer.Exit(USAGE_ERROR)


@app.command("decode")
def decode_command(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE|-",
            help="A FIX log or capture; '-' or nothing reads standard input.",
            show_default=False,
        ),
    ] = "-",
    validate: Annotated[
        bool,
        typer.Option("--validate/--no-validate", help="Check messages against FIX 4.4."),
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per message (JSON Lines).")
    ] = False,
    color: Annotated[
        bool | None,
        typer.Option(
            "--color/--no-color",
            help="Colour the output. [default: when standard output is a terminal]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Decode FIX messages: field names, enum meanings, groups and validation.

    Reads SOH-, '|'- or '^A'-delimited messages, one per line (a prefix before 8=FIX, such as
    QuickFIX's timestamp, is shown as a label), or a raw byte stream. Exit code 0 when every
    message is valid, 1 when any is invalid or garbled, 2 for usage errors.
    """
    if color is None:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    validator = Validator() if validate else None
    scanner = LogScanner()
    tally = Tally(validated=validate)
    with _open_input(file) as stream:
        for d in decode(stream, validator=validator, scanner=scanner):
            tally.add(d)
            if as_json:
                typer.echo(render_json(d))
            else:
                typer.echo(render_text(d, color=color), color=color)
    source = "standard input" if file == "-" else file
    if tally.frames == 0:
        typer.echo(f"trifix decode: no FIX messages found in {source}", err=True)
        raise typer.Exit(1)
    if not as_json:
        skipped = f"; {scanner.skipped_lines} other lines skipped" if scanner.skipped_lines else ""
        typer.echo(f"{tally}{skipped}")
    if tally.failed:
        raise typer.Exit(1)


config_app = typer.Typer(name="config", help="Gateway configuration files.", no_args_is_help=True)
app.add_typer(config_app)


@config_app.command("check")
def config_check_command(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="The gateway's YAML configuration file.")
    ],
) -> None:
    """Check a configuration file, with ${ENV} substitution and FIX_* overrides applied.

    Prints "OK: N sessions (ids)" and exits 0, or prints every problem (file:line:column: key:
    what is wrong) and exits 1.
    """
    from trifix.config import ConfigError, load  # here: other commands need not import it

    try:
        config = load(file)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        if "unknown key 'simulator'" in str(exc):
            typer.echo(
                f"(a simulator file? `trifix simulate {file} --duration 1` checks and runs it)",
                err=True,
            )
        raise typer.Exit(1) from None
    count = len(config.sessions)
    typer.echo(f"OK: {count} session{'' if count == 1 else 's'} ({', '.join(config.session_ids)})")


@app.command("run")
def run_command(
    config: Annotated[
        str | None,
        typer.Argument(
            metavar="[CONFIG]",
            help="The gateway's YAML configuration; none runs the demo against an embedded LP.",
            show_default=False,
        ),
    ] = None,
    ui: Annotated[
        bool,
        typer.Option(
            "--ui/--no-ui",
            help="Show the live view (when standard output is a terminal), or log lines to "
            "standard error.",
        ),
    ] = True,
    duration: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS", min=0, help="Stop after this long. [default: until Ctrl-C]"
        ),
    ] = None,
    store_dir: Annotated[
        str | None,
        typer.Option(
            metavar="DIR",
            envvar="FIX_STORE_DIR",
            help="The gateway's LMDB store. [default: ./fixstore, or the configuration's]",
            show_default=False,
        ),
    ] = None,
    http_port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            min=0,
            max=65535,
            help="Serve GET /health and GET /metrics on this port of --http-host (0 picks a "
            "free one). [default: the configuration's metrics block, else off]",
            show_default=False,
        ),
    ] = None,
    http_host: Annotated[
        str, typer.Option(metavar="HOST", help="The address the HTTP endpoints bind to.")
    ] = "127.0.0.1",
    token: Annotated[
        str | None,
        typer.Option(
            metavar="TOKEN",
            envvar="FIX_HTTP_TOKEN",
            help="A bearer token required by HTTP endpoints that change state.",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            metavar="LEVEL",
            envvar="FIX_LOG_LEVEL",
            help="DEBUG (every FIX message), INFO, WARNING or ERROR. [default: the "
            "configuration's log_level, else INFO]",
            show_default=False,
        ),
    ] = None,
    log_format: Annotated[
        str, typer.Option(metavar="FORMAT", help="Log lines as 'console' text or 'json'.")
    ] = "console",
    traces: Annotated[
        str,
        typer.Option(
            metavar="EXPORTER",
            help="Where OpenTelemetry spans go: 'off', 'console' or 'otlp' (needs the "
            "trifix[otlp] extra).",
        ),
    ] = "off",
    web: Annotated[
        bool | None,
        typer.Option(
            "--web/--no-web",
            help="Serve the dashboard and the WebSocket API (with /health and /metrics). "
            "[default: on for the demo, else the configuration's web block]",
            show_default=False,
        ),
    ] = None,
    web_port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            min=0,
            max=65535,
            help="The dashboard's port (0 picks a free one). [default: 8080, or the "
            "configuration's]",
            show_default=False,
        ),
    ] = None,
    ws_port: Annotated[
        int | None,
        typer.Option(
            metavar="PORT",
            min=0,
            max=65535,
            help="The WebSocket API's port. [default: 8081, or the configuration's]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the gateway. With no CONFIG, it connects to an embedded simulated LP and shows
    market data, orders, replaces and cancels working end to end.

    Ctrl-C (or SIGTERM) logs every session out and stops (exit code 0); a second one stops at
    once. Exit code 1 when the configuration or the store cannot be used.
    """
    from pathlib import Path  # here: other commands need not import trio or rich

    from rich.console import Console

    from trifix.core.errors import ConfigError, StoreError
    from trifix.observability import OtlpMissingError
    from trifix.tools.run import (
        RunOptions,
        TelemetryOptions,
        load_gateway_config,
        run,
    )

    if log_format not in ("console", "json"):
        _usage_error(f"--log-format {log_format!r}: use 'console' or 'json'", "run")
    if traces not in ("off", "console", "otlp"):
        _usage_error(f"--traces {traces!r}: use 'off', 'console' or 'otlp'", "run")
    level = (log_level or "").upper()
    if log_level is not None and level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        _usage_error(f"--log-level {log_level!r}: use DEBUG, INFO, WARNING or ERROR", "run")
    try:
        setup = None if config is None else load_gateway_config(Path(config))
        spec = None if setup is None else setup.spec
        configured = TelemetryOptions() if setup is None else setup.telemetry
        telemetry = TelemetryOptions(
            http_port=http_port if http_port is not None else configured.http_port,
            http_host=http_host,
            token=token,
            log_level=level or configured.log_level,
            log_format=log_format,  # type: ignore[arg-type]  # checked above
            traces=traces,  # type: ignore[arg-type]
        )
        # Logs, metrics and traces only when asked for (flags or the configuration): the
        # live view and the event lines already say what happens.
        wanted = (
            telemetry.http_port is not None
            or traces != "off"
            or log_format != "console"
            or log_level is not None
            or (config is not None and configured.log_level != "INFO")
        )
        options = RunOptions(
            spec,
            Path(store_dir) if store_dir else None,
            ui,
            duration,
            config_path=None if config is None else Path(config),
            telemetry=telemetry if wanted else None,
            trading=None if setup is None else setup.trading,
            web=_web_options(setup, web, web_port, ws_port, http_host, token),
        )
        code = run(options, console=Console(), log=lambda line: typer.echo(line, err=True))
    except (ConfigError, StoreError, OtlpMissingError) as exc:
        typer.echo(f"trifix run: {exc}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def _web_options(
    setup: GatewaySetup | None,
    web: bool | None,
    web_port: int | None,
    ws_port: int | None,
    host: str,
    token: str | None,
) -> WebOptions | None:
    """The dashboard's settings: the configuration's, changed by the flags; on for the demo."""
    from trifix.tools.run import WebOptions

    configured = WebOptions() if setup is None else setup.web
    enabled = web if web is not None else (setup is None or configured is not None)
    if not enabled:
        return None
    base = configured or WebOptions(host=host, token=token)
    return WebOptions(
        http_port=web_port if web_port is not None else base.http_port,
        ws_port=ws_port if ws_port is not None else base.ws_port,
        host=base.host,
        token=token if token is not None else base.token,
    )


# The bundled tools: their options live with them, their work is imported when they run.
app.command(
    "simulate",
    help="Run the LP simulator (an acceptor with scripted misbehaviour) from a YAML file or "
    "from flags alone, e.g. --port 9878 --sender-comp-id LP --target-comp-id GW --app echo.",
)(simulate)
app.add_typer(store_app)
app.command("replay")(replay_command)
app.command(
    "conform",
    help="Run YAML conformance scripts against a FIX engine (any engine, over TCP) and "
    "print PASS/FAIL per script, then 'N passed, M failed'.",
)(conform)


def main() -> None:
    """The console script's entry point (a closed pipe, as in `| head`, ends it quietly:
    click handles EPIPE)."""
    app()
