"""`conform` as a command: usage errors exit 2 and say how to fix them; a run prints one line
per script and the tally, writes JUnit, and exits 0 or 1."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from conformance.cli import conform

SCENARIOS = Path(__file__).parents[2] / "scenarios" / "session"
app = typer.Typer()
app.command()(conform)
runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([str(SCENARIOS)], "give --target HOST:PORT"),
        ([str(SCENARIOS), "--target", "h:1", "--listen", "2"], "one of the three"),
        ([str(SCENARIOS), "--target", "9878"], "write HOST:PORT"),
        ([str(SCENARIOS), "--listen", "x:port"], "write [HOST:]PORT"),
        (["nowhere.yaml", "--target", "h:1"], "no such file or directory: nowhere.yaml"),
        ([str(SCENARIOS), "--target", "h:1", "-k", "zzz"], "no scripts matching --filter"),
        ([str(SCENARIOS), "--simulate", "nosuch.yaml"], "write 'echo' or the path"),
    ],
)
def test_usage_errors_exit_2_with_a_fix(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_scripts_that_cannot_load_are_listed_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("case: x\nsteps:\n  - fly\n")
    result = runner.invoke(app, [str(tmp_path), "--target", "127.0.0.1:1"])
    assert result.exit_code == 2
    assert f"ERROR {tmp_path / 'bad.yaml'}:3: step 1: unknown step 'fly'" in result.output
    assert "1 script(s) cannot be loaded" in result.output


def test_a_run_against_the_simulator_passes_and_writes_junit(tmp_path: Path) -> None:
    junit = tmp_path / "report.xml"
    args = [str(SCENARIOS), "--simulate", "echo", "-k", "2-a", "-k", "1S-a", "--junit", str(junit)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "PASS 2-a-seq-as-expected" in lines
    assert "SKIP 1S-a-valid-logon: needs an engine that is initiator" in lines
    assert lines[-1] == "1 passed, 0 failed, 1 skipped"
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "2"


def test_a_run_with_failures_exits_1(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text('case: "x"\nsteps:\n  - connect\n  - expect: "35=A"\n')
    result = runner.invoke(app, [str(tmp_path), "--simulate", "echo", "--timeout", "0.2", "-v"])
    assert result.exit_code == 1
    assert (
        "FAIL a: step 2 (expect, line 4): expected 35=A, got nothing within 0.2 s" in result.output
    )
    assert "    x connected" in result.output
    assert result.output.splitlines()[-1] == "0 passed, 1 failed"
