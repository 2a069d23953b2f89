"""`trifix replay LOG` through its own Typer app: the decoder narrative and the simulator."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.tools.decode import Decoded
from trifix.tools.replay import replay_command
from trifix.tools.replay_log import entry_time, is_event_log

ROOT = Path(__file__).resolve().parents[2]
INCIDENT = ROOT / "examples" / "quickfix" / "FIX.4.4-GATEWAY-LP1.messages.current.log"
T0 = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)

app = typer.Typer()
app.command("replay")(replay_command)
app.command("version")(lambda: None)  # two commands: "replay" stays a subcommand


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["replay", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def frame(sender: str, target: str, seq: int, msg_type: str, *fields: tuple[int, Any]) -> bytes:
    return Message.new(
        msg_type,
        (Tag.MSG_SEQ_NUM, seq),
        (Tag.SENDER_COMP_ID, sender),
        (Tag.TARGET_COMP_ID, target),
        (Tag.SENDING_TIME, T0 + timedelta(seconds=seq)),
        *fields,
    ).encode()


def logon(sender: str, target: str, seq: int = 1) -> bytes:
    return frame(
        sender, target, seq, MsgType.LOGON, (Tag.ENCRYPT_METHOD, 0), (Tag.HEART_BT_INT, 30)
    )


def write_log(path: Path, frames: Iterable[bytes], sep: bytes = b"\x01") -> Path:
    path.write_bytes(b"".join(f.replace(b"\x01", sep) + b"\n" for f in frames))
    return path


# -- decoder -----------------------------------------------------------------------------------
def test_the_incident_log_is_narrated() -> None:
    code, out, _ = run(INCIDENT, "--brief", "--no-color")
    assert code == 1
    expected = [
        ">> GATEWAY -> LP1: narrated from seq 1 (LP1 as acceptor)",
        ">> GATEWAY: logon with LP1 complete (HeartBtInt 30, sequence numbers reset)",
        ">> GATEWAY: GAP: expected seq 4 from LP1, got 6; GATEWAY would send ResendRequest "
        "BeginSeqNo=4 EndSeqNo=0",
        ">> GATEWAY asks LP1 to resend 4..infinity",
        ">> GATEWAY: resent message delivered (PossDupFlag=Y)",
        ">> GATEWAY: SequenceReset-GapFill from LP1: next seq 6",
        ">> GATEWAY: gap filled; next expected from LP1: 7",
        ">> GATEWAY: duplicate seq 6 (PossDupFlag=Y) ignored",
        ">> LP1: would REJECT seq 4 of GATEWAY: 373=5 Value is incorrect (out of range) for "
        "this tag, tag 54",
        ">> GATEWAY: LP1 REJECTED GATEWAY's seq 4 373=5",
        ">> GATEWAY: would REJECT seq 8 of LP1: 373=1 Required tag missing, tag 39",
        ">> GATEWAY: LP1 silent too long; GATEWAY would send TestRequest TEST1 at 09:31:24",
        ">> GATEWAY: LP1 did not answer the TestRequest: timed out at 09:32:09",
        ">> LP1: Logout from GATEWAY (Timed out waiting for heartbeat); answered",
    ]
    position = 0
    for line in expected:
        position = out.index(line, position)  # present, and in this order
    assert out.splitlines()[-1] == (
        "18 messages, 0 garbled, 2 invalid, 1 gap, 1 resend request, 4 rejects, "
        "1 duplicate, 2 disconnects"
    )
    assert "#6  Heartbeat (0)  seq=6  LP1 -> GATEWAY  [20260312-09:30:32.765]" in out
    assert "Reject 373=1 (Required tag missing) ref_tag=39" in out


def test_full_output_shows_every_field() -> None:
    code, out, _ = run(INCIDENT, "--no-color")
    assert code == 1
    assert "  55   Symbol" in out
    assert "= EUR/USD" in out


def test_a_clean_pipe_delimited_log_exits_0(tmp_path: Path) -> None:
    hb = frame("GW", "LP", 2, MsgType.HEARTBEAT)
    log = write_log(tmp_path / "ours.log", [logon("GW", "LP"), logon("LP", "GW"), hb], b"|")
    code, out, _ = run(log, "--brief", "--no-validate")
    assert code == 0, out
    assert out.splitlines()[-1].startswith("3 messages, 0 garbled, 0 invalid, 0 gaps")
    assert ">> LP: logon with GW complete" in out
    assert ">> GW -> LP: narrated from seq 1 (LP as acceptor)" in out
    assert ">> LP -> GW: narrated from seq 1 (GW as initiator)" in out


def test_a_log_that_starts_mid_session_is_not_a_gap(tmp_path: Path) -> None:
    frames = [frame("GW", "LP", 500, MsgType.HEARTBEAT), frame("GW", "LP", 501, MsgType.HEARTBEAT)]
    frames.append(b"this line is not FIX\n")
    code, out, _ = run(write_log(tmp_path / "m.log", frames), "--brief")
    assert code == 0, out
    assert "GW -> LP: the log starts mid-session; narrated from seq 500 as if logged on" in out
    assert "GAP" not in out
    assert out.rstrip().endswith("1 other lines skipped")


def test_a_log_at_seq_1_without_logon_waits_for_one(tmp_path: Path) -> None:
    frames = [
        frame("GW", "LP", 1, MsgType.HEARTBEAT),
        logon("GW", "LP", 2),
        frame("GW", "LP", 4, MsgType.HEARTBEAT),
    ]
    code, out, _ = run(write_log(tmp_path / "s.log", frames), "--brief")
    assert "the log starts without a Logon at seq 1" in out
    assert "GAP" not in out  # not narrated at all
    assert code == 0


def test_after_a_disconnect_only_a_logon_is_narrated(tmp_path: Path) -> None:
    frames = [
        logon("GW", "LP"),
        frame("GW", "LP", 1, MsgType.HEARTBEAT),  # too low: fatal
        frame("GW", "LP", 3, MsgType.HEARTBEAT),
        logon("GW", "LP", 4),
    ]
    code, out, _ = run(write_log(tmp_path / "d.log", frames), "--brief")
    assert code == 0 or code == 1
    assert "LP: would DISCONNECT" in out
    assert "LP is not connected (after a disconnect)" in out
    assert out.count("logon with GW complete") == 2


def test_garbled_frames_are_counted(tmp_path: Path) -> None:
    bad = logon("GW", "LP").replace(b"10=", b"10=9")[:-1] + b"\x01"
    code, out, _ = run(write_log(tmp_path / "g.log", [bad]), "--brief")
    assert code == 1
    assert "garbled frame ignored" in out
    assert "0 messages, 1 garbled" in out


@pytest.mark.parametrize(
    ("make", "code", "message"),
    [
        (lambda p: p / "FIX.4.4-A-B.event.current.log", 2, "this is a QuickFIX event log"),
        (lambda p: p / "missing.log", 2, "file not found"),
        (lambda p: p, 2, "cannot read"),
        (lambda p: write_log(p / "empty.log", []), 1, "no FIX messages found"),
    ],
)
def test_inputs_that_cannot_be_replayed(tmp_path: Path, make: Any, code: int, message: str) -> None:
    got, _, err = run(make(tmp_path))
    assert got == code
    assert message in err


def test_through_must_be_known() -> None:
    code, _, err = run(INCIDENT, "--through", "wire")
    assert code == 2
    assert "--through must be decoder or simulator" in err


def test_helpers() -> None:
    assert is_event_log("FIX.4.4-GW-LP.event.current.log")
    assert is_event_log("x.event.log")
    assert not is_event_log("FIX.4.4-GW-LP.messages.current.log")
    msg = Message.from_frame(logon("GW", "LP"))
    assert entry_time(Decoded(1, "no time here", msg)) == T0 + timedelta(seconds=1)
    assert entry_time(Decoded(1, "20260312-25:00:00", msg)) == T0 + timedelta(seconds=1)
    assert entry_time(Decoded(1, "20260312-10:00:00.500", msg)) == T0 + timedelta(
        minutes=30, milliseconds=500
    )
    msg.set(Tag.SENDING_TIME, "yesterday")
    assert entry_time(Decoded(1, "", msg)) is None


# -- simulator ----------------------------------------------------------------------------------
def test_the_incident_through_the_simulator() -> None:
    code, out, _ = run(INCIDENT, "--through", "simulator", "--brief", "--no-color")
    assert code == 1  # the simulated LP rejects the order with Side 54=Z, as LP1 did
    lines = out.splitlines()
    assert lines[0].startswith("-> #1  Logon (A)  seq=1  GATEWAY -> LP1")
    assert lines[1].startswith("<- #2  Logon (A)  seq=1  LP1 -> GATEWAY  [simulator]")
    assert any(
        line.startswith("<- #4  ExecutionReport (8)  seq=2  LP1 -> GATEWAY") for line in lines
    )
    assert any(line.startswith("<-") and "Reject (3)" in line for line in lines)
    assert lines[-1] == (
        "9 messages sent to the simulator as GATEWAY, 5 answers from LP1 (rejects: 1); "
        "9 messages of LP1 in the log not replayed"
    )


def test_the_simulator_plays_either_side_and_keeps_pauses(tmp_path: Path) -> None:
    order = frame(
        "GW",
        "LP",
        2,
        MsgType.NEW_ORDER_SINGLE,
        (Tag.CL_ORD_ID, "A1"),
        (Tag.SYMBOL, "XAUUSD"),
        (Tag.SIDE, "1"),
        (Tag.TRANSACT_TIME, T0),
        (Tag.ORDER_QTY, 10),
        (Tag.ORD_TYPE, "2"),
        (Tag.PRICE, "2400.50"),
    )
    log = write_log(tmp_path / "o.log", [logon("GW", "LP"), order])
    code, out, _ = run(log, "--through", "simulator", "--speed", "1000", "--no-color")
    assert code == 0, out
    assert "55   Symbol" in out
    assert "XAUUSD" in out
    assert "150  ExecType" in out  # the order was acknowledged: the symbol was added
    code, _, err = run(log, "--through", "simulator", "--client", "LP")
    assert code == 1
    assert "no message in the log was sent by 'LP'" in err


def test_the_simulator_needs_the_clients_logon(tmp_path: Path) -> None:
    log = write_log(tmp_path / "n.log", [frame("GW", "LP", 7, MsgType.HEARTBEAT)])
    code, _, err = run(log, "--through", "simulator")
    assert code == 1
    assert "GW's first message in the log is not a Logon" in err
    assert "use --through decoder" in err


def test_replayed_messages_are_shown_redacted(tmp_path: Path) -> None:
    secret = frame(
        "GW",
        "LP",
        1,
        MsgType.LOGON,
        (Tag.ENCRYPT_METHOD, 0),
        (Tag.HEART_BT_INT, 30),
        (Tag.PASSWORD, "hunter2"),
    )
    log = write_log(tmp_path / "p.log", [secret])
    code, out, _ = run(log, "--no-color")
    assert code == 0
    assert "hunter2" not in out
    assert ">> LP: logon with GW complete" in out
    code, out, _ = run(log, "--through", "simulator", "--no-color")
    assert "hunter2" not in out
