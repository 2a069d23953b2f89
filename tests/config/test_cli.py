"""`trifix config check FILE` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trifix.cli import app

from .helpers import SESSION

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("FIX_STORE_DIR", "FIX_LOG_LEVEL", "FIX_ENABLE_METRICS", "FIX_METRICS_PORT"):
        monkeypatch.delenv(name, raising=False)


def test_a_good_file_says_ok_with_the_session_ids() -> None:
    two = SESSION + SESSION.replace("sessions:\n", "").replace("LP1", "LP2")
    Path("gateway.yaml").write_text(two, encoding="utf-8")
    result = runner.invoke(app, ["config", "check", "gateway.yaml"])
    assert (result.exit_code, result.stdout) == (0, "OK: 2 sessions (LP1, LP2)\n")


def test_one_session_is_singular() -> None:
    Path("gateway.yaml").write_text(SESSION, encoding="utf-8")
    result = runner.invoke(app, ["config", "check", "gateway.yaml"])
    assert (result.exit_code, result.stdout) == (0, "OK: 1 session (LP1)\n")


def test_a_bad_file_prints_every_problem_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LP1_PASSWORD", raising=False)
    text = SESSION + "    password: ${LP1_PASSWORD}\n    reconnection: {initial_delay: fast}\n"
    Path("gateway.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["config", "check", "gateway.yaml"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "gateway.yaml:7:5: sessions[0].password: environment variable LP1_PASSWORD is not set "
        "(set it, or give a default: ${LP1_PASSWORD:-...})\n"
        "gateway.yaml:8:20: sessions[0].reconnection.initial_delay: "
        'expected a duration like "1s" or "500ms", got "fast"\n'
    )


def test_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LP1_PASSWORD", "s3cret")
    monkeypatch.setenv("FIX_METRICS_PORT", "none")
    Path("gateway.yaml").write_text(SESSION + "    password: ${LP1_PASSWORD}\n", encoding="utf-8")
    result = runner.invoke(app, ["config", "check", "gateway.yaml"])
    assert result.exit_code == 1
    assert result.stderr == (
        'gateway.yaml: metrics.port: expected a whole number, got "none" '
        "(set by the environment variable FIX_METRICS_PORT)\n"
    )
    assert "s3cret" not in result.output


def test_a_missing_file_exits_1() -> None:
    result = runner.invoke(app, ["config", "check", "nowhere.yaml"])
    assert result.exit_code == 1
    assert result.stderr == "nowhere.yaml: cannot read the file: No such file or directory\n"


def test_the_bundled_example_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LP1_USERNAME", "LP1_PASSWORD", "LP2_PASSWORD"):
        monkeypatch.setenv(name, "x")
    example = Path(__file__).resolve().parents[2] / "examples" / "gateway.yaml"
    result = runner.invoke(app, ["config", "check", str(example)])
    assert (result.exit_code, result.stdout) == (0, "OK: 2 sessions (LP1, LP2)\n")


def test_config_without_a_command_shows_help() -> None:
    result = runner.invoke(app, ["config"])
    assert "check" in result.output
