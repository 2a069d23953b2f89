"""`simulate` through its own typer app: flag errors exit 2 saying how to fix them, and short
real runs (bounded by --duration) listen on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from simulator.cli import simulate

app = typer.Typer()
app.command()(simulate)
runner = CliRunner()

FILE = """\
listen: {port: 0}
sessions:
  - {id: GW, role: acceptor, sender_comp_id: LP, target_comp_id: GW}
simulator: {sessions: {GW: {app: echo}}}
"""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --sender-comp-id and --target-comp-id"),
        (["--sender-comp-id", "LP", "--target-comp-id", "GW", "--app", "x"], "--app must be"),
        (["--sender-comp-id", "LP", "--target-comp-id", "GW", "--port", "70000"], "--port must"),
        (["--sender-comp-id", "LP", "--target-comp-id", "GW", "--heartbeat", "-1"], "--heartbeat"),
        (["--sender-comp-id", "LP", "--target-comp-id", "GW", "--username", "u"], "--password"),
        (["--sender-comp-id", "LP", "--target-comp-id", "GW", "--duration", "0"], "--duration"),
        (["missing.yaml"], "cannot read the file"),
    ],
)
def test_flag_errors_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_session_flags_with_a_file_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text(FILE)
    result = runner.invoke(app, [str(path), "--app", "echo", "--reset-on-logon"])
    assert result.exit_code == 2
    assert "--app, --reset-on-logon describe a session without a file" in result.output


def test_one_session_from_flags_runs_and_prints_its_port() -> None:
    args = [
        "--port",
        "0",
        "--sender-comp-id",
        "LP",
        "--target-comp-id",
        "GW",
        "--app",
        "echo",
        "--reset-on-logon",
        "--seed",
        "3",
        "--store",
        "memory",
        "--duration",
        "0.2",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "simulator listening on 127.0.0.1:" in result.output
    assert "GW (echo)" in result.output


def test_a_file_runs_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text(FILE)
    store = tmp_path / "store"
    args = [
        str(path),
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--store",
        str(store),
        "--duration",
        "0.2",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "GW (echo)" in result.output
    assert store.exists()


def test_a_port_in_use_exits_2(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = [
            "--port",
            str(port),
            "--sender-comp-id",
            "LP",
            "--target-comp-id",
            "GW",
            "--duration",
            "0.1",
        ]
        result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
