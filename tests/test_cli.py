"""The `trifix` command and the decoder behind `trifix decode` (trifix/tools/decode.py).

The CLI tests run the real command through typer's CliRunner on the bundled sample log and on
hand-made inputs; the decoder tests cover input shapes that are clearer to check directly.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import runpy
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from trifix import __version__
from trifix.cli import app, main
from trifix.core.codec import GarbledFrame
from trifix.core.message import Message
from trifix.core.tags import MsgType, SessionRejectReason, Side, Tag
from trifix.core.validate import ValidationError, Validator
from trifix.tools.decode import (
    CONVERTED_NOTE,
    Decoded,
    LogScanner,
    Tally,
    decode,
    field_rows,
    render_json,
    render_text,
    to_json,
)

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample.log"
SOH = b"\x01"
ANSI = "\x1b["

runner = CliRunner()


def run(*args: str, input: bytes | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


def heartbeat(seq: int = 2, *extra: tuple[int, Any]) -> bytes:
    """An encoded, valid Heartbeat from CLIENT to BROKER."""
    return Message.new(
        MsgType.HEARTBEAT,
        (Tag.MSG_SEQ_NUM, seq),
        (Tag.SENDER_COMP_ID, "CLIENT"),
        (Tag.SENDING_TIME, "20240304-05:06:07.891"),
        (Tag.TARGET_COMP_ID, "BROKER"),
        *extra,
    ).encode()


def order(side: str = "1") -> bytes:
    """An encoded NewOrderSingle; valid unless `side` is not a FIX 4.4 Side."""
    return Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.MSG_SEQ_NUM, 3),
        (Tag.SENDER_COMP_ID, "CLIENT"),
        (Tag.SENDING_TIME, "20240304-05:06:07.891"),
        (Tag.TARGET_COMP_ID, "BROKER"),
        (Tag.CL_ORD_ID, "A1"),
        (Tag.SYMBOL, "EUR/USD"),
        (Tag.SIDE, side),
        (Tag.TRANSACT_TIME, "20240304-05:06:07.891"),
        (Tag.ORDER_QTY, 100),
        (Tag.ORD_TYPE, "1"),
    ).encode()


def logon(raw_data: bytes) -> bytes:
    """An encoded Logon carrying `raw_data` in RawData (96), a length-prefixed data field."""
    return Message.new(
        MsgType.LOGON,
        (Tag.MSG_SEQ_NUM, 1),
        (Tag.SENDER_COMP_ID, "CLIENT"),
        (Tag.SENDING_TIME, "20240304-05:06:07.891"),
        (Tag.TARGET_COMP_ID, "BROKER"),
        (Tag.ENCRYPT_METHOD, 0),
        (Tag.HEART_BT_INT, 30),
        (Tag.RAW_DATA_LENGTH, len(raw_data)),
        (Tag.RAW_DATA, raw_data),
    ).encode()


def pipes(frame: bytes) -> bytes:
    return frame.replace(SOH, b"|")


def with_checksum(frame: bytes, value: bytes) -> bytes:
    return frame[:-4] + value + SOH


def decoded(data: bytes, *, validate: bool = True) -> list[Decoded]:
    validator = Validator() if validate else None
    return list(decode(io.BytesIO(data), validator=validator))


# -- trifix --version, help ------------------------------------------------------------------------
def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"trifix {__version__}\n"


def test_python_dash_m_runs_the_same_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["trifix", "--version"])
    with pytest.raises(SystemExit) as exc:
        runpy.run_module("trifix", run_name="__main__")
    assert exc.value.code == 0


def test_importing_main_runs_nothing() -> None:
    module = importlib.import_module("trifix.__main__")
    assert module.main is main


def test_no_arguments_shows_help() -> None:
    result = run()
    assert "decode" in result.output
    assert "Usage: trifix" in result.output


def test_unknown_option_is_a_usage_error() -> None:
    result = run("decode", "--no-such-option", str(SAMPLE))
    assert result.exit_code == 2


# -- trifix decode on the bundled sample -----------------------------------------------------------
def test_sample_log_headers_fields_groups_and_problems() -> None:
    result = run("decode", str(SAMPLE))
    assert result.exit_code == 1  # the sample holds one invalid and one garbled message
    out = result.stdout
    lines = out.splitlines()
    headers = [line for line in lines if line.startswith("#")]
    assert len(headers) == 25
    assert headers[0] == "#1  Logon (A)  seq=1  TRIFIX -> LPSIM  [20240312-09:30:00.000]"
    assert headers[4] == ("#5  NewOrderSingle (D)  seq=3  TRIFIX -> LPSIM  [20240312-09:30:34.016]")
    # The order: fields aligned per message, enum meanings, Parties with nested PartySubIDs.
    start = lines.index(headers[4]) + 1
    assert lines[start : start + 20] == [
        "  8    BeginString        = FIX.4.4",
        "  9    BodyLength         = 235",
        "  35   MsgType            = D (NEW_ORDER_SINGLE)",
        "  34   MsgSeqNum          = 3",
        "  49   SenderCompID       = TRIFIX",
        "  52   SendingTime        = 20240312-09:30:34.016",
        "  56   TargetCompID       = LPSIM",
        "  11   ClOrdID            = ORD-1001",
        "  1    Account            = ACC-7",
        "  453  NoPartyIDs         = 2",
        "    448  PartyID          = DESK-7",
        "    447  PartyIDSource    = D (PROPRIETARY)",
        "    452  PartyRole        = 11 (ORDER_ORIGINATION_TRADER)",
        "    802  NoPartySubIDs    = 1",
        "      523  PartySubID     = FX-EMEA",
        "      803  PartySubIDType = 24 (DEPARTMENT)",
        "    448  PartyID          = TRIFIX-GW",
        "    447  PartyIDSource    = D (PROPRIETARY)",
        "    452  PartyRole        = 1 (EXECUTING_FIRM)",
        "  55   Symbol             = EUR/USD",
    ]
    assert "  54   Side               = 1 (BUY)" in lines
    # The garbled heartbeat and the order with Side=0.
    garbled = lines.index(
        "#16  GARBLED: CheckSum is 091 but the bytes sum to 090  [20240312-09:31:06.161]"
    )
    assert lines[garbled + 1].startswith("  8=FIX.4.4|9=55|35=0|34=10|49=LPSIM|")
    bad = lines.index("#21  NewOrderSingle (D)  seq=9  TRIFIX -> LPSIM  [20240312-09:31:33.285]")
    assert "  54   Side         = 0" in lines[bad:]
    reject = "  Reject 373=5 (Value is incorrect (out of range) for this tag) ref_tag=54"
    assert lines.count(reject) == 1
    assert lines.index(reject) > bad
    assert lines[-1] == "25 messages: 23 valid, 1 invalid, 1 garbled"
    assert ANSI not in out  # not a terminal: no colour by default


def test_stdin_gives_the_same_output_as_the_file() -> None:
    from_file = run("decode", str(SAMPLE))
    from_stdin = run("decode", "-", input=SAMPLE.read_bytes())
    implicit = run("decode", input=SAMPLE.read_bytes())
    assert from_stdin.stdout == from_file.stdout == implicit.stdout
    assert from_stdin.exit_code == implicit.exit_code == 1


def test_no_validate_reports_only_garbled_frames() -> None:
    result = run("decode", "--no-validate", str(SAMPLE))
    assert result.exit_code == 1  # the garbled line still fails
    assert "Reject 373" not in result.stdout
    assert result.stdout.splitlines()[-1] == "25 messages: 24 read, 1 garbled (not validated)"
    only_invalid = run("decode", "--no-validate", input=order(side="0") + b"\n")
    assert only_invalid.exit_code == 0
    assert run("decode", input=order(side="0") + b"\n").exit_code == 1


def test_exit_code_zero_when_every_message_is_valid() -> None:
    data = b"".join(line + b"\n" for line in (heartbeat(2), order(), heartbeat(4)))
    result = run("decode", input=data)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "3 messages: 3 valid, 0 invalid, 0 garbled"


def test_color_only_when_asked_or_on_a_terminal() -> None:
    colored = run("decode", "--color", str(SAMPLE))
    assert "\x1b[36mSide\x1b[0m" in colored.stdout
    assert "\x1b[32m(BUY)\x1b[0m" in colored.stdout
    assert "\x1b[1;31mReject 373=5" in colored.stdout
    plain = run("decode", "--no-color", str(SAMPLE))
    assert ANSI not in plain.stdout
    assert plain.stdout == run("decode", str(SAMPLE)).stdout


# -- delimiter forms -------------------------------------------------------------------------------
def test_pipe_delimited_lines_are_converted_and_verified() -> None:
    # A '|' inside a Text value is not a delimiter; converting back restores the sender's
    # bytes, so the CheckSum verifies and no note appears.
    frame = heartbeat(2, (Tag.TEST_REQ_ID, "a|b"))
    result = run("decode", input=b"09:00:00 : " + pipes(frame) + b"\n")
    assert result.exit_code == 0
    assert "  112  TestReqID    = a|b" in result.stdout.splitlines()
    assert "note" not in result.stdout
    assert result.stdout.splitlines()[0] == "#1  Heartbeat (0)  seq=2  CLIENT -> BROKER  [09:00:00]"


def test_pipe_delimited_bad_checksum_is_noted_not_rejected() -> None:
    good = heartbeat()
    actual = good[-4:-1].decode()
    wrong = f"{(int(actual) + 1) % 256:03d}"
    result = run("decode", input=pipes(with_checksum(good, wrong.encode())) + b"\r\n")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert f"  10   CheckSum     = {wrong}" in lines  # as stated in the input
    note = f"  note: {CONVERTED_NOTE}: CheckSum (10) is {wrong}, the bytes sum to {actual}"
    assert note in lines
    assert lines[-1] == "1 message: 1 valid, 0 invalid, 0 garbled, 1 with an unverified checksum"


def test_pipe_form_still_checks_body_length() -> None:
    frame = heartbeat().replace(b"9=55\x01", b"9=54\x01")
    result = run("decode", input=pipes(frame) + b"\n")
    assert result.exit_code == 1
    assert "#1  GARBLED: CheckSum (10) is not where BodyLength (9) says" in result.stdout


def test_caret_a_delimited_lines_as_cat_v_shows_them() -> None:
    data = SAMPLE.read_bytes().replace(SOH, b"^A")
    result = run("decode", input=data)
    # Converted: the garbled heartbeat is decoded with a note instead (see docs/decode.md).
    assert result.stdout.splitlines()[-1] == (
        "25 messages: 24 valid, 1 invalid, 0 garbled, 1 with an unverified checksum"
    )
    assert "  note: checksum not verified (converted delimiters)" in result.stdout


def test_raw_stream_without_line_breaks() -> None:
    stream = heartbeat(2) + order() + b"noise" + heartbeat(4)
    result = run("decode", input=stream)
    assert result.exit_code == 1
    headers = [line for line in result.stdout.splitlines() if line.startswith("#")]
    assert headers == [
        "#1  Heartbeat (0)  seq=2  CLIENT -> BROKER",
        "#2  NewOrderSingle (D)  seq=3  CLIENT -> BROKER",
        "#3  GARBLED: data before BeginString (8)",
        "#4  Heartbeat (0)  seq=4  CLIENT -> BROKER",
    ]


def test_raw_stream_read_in_pieces() -> None:
    # Pieces as a binary stream's lines come: any cut after the first SOH.
    stream = heartbeat(2) + order() + heartbeat(4)
    for cut in range(len(b"8=FIX.4.4\x01"), len(stream)):
        chunks = [stream[:cut], stream[cut:]]
        got = [d.message.seq_num for d in decode(chunks) if d.message is not None]
        assert got == [2, 3, 4], cut


# -- JSON ------------------------------------------------------------------------------------------
def test_json_lines_exact_fields_groups_and_errors() -> None:
    result = run("decode", "--json", str(SAMPLE))
    assert result.exit_code == 1
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 25
    logon = objects[0]
    assert logon == {
        "index": 1,
        "label": "20240312-09:30:00.000",
        "msg_type": "A",
        "msg_type_name": "Logon",
        "seq_num": 1,
        "sender": "TRIFIX",
        "target": "LPSIM",
        "fields": [
            {"tag": 8, "name": "BeginString", "value": "FIX.4.4", "meaning": None},
            {"tag": 9, "name": "BodyLength", "value": "72", "meaning": None},
            {"tag": 35, "name": "MsgType", "value": "A", "meaning": "LOGON"},
            {"tag": 34, "name": "MsgSeqNum", "value": "1", "meaning": None},
            {"tag": 49, "name": "SenderCompID", "value": "TRIFIX", "meaning": None},
            {"tag": 52, "name": "SendingTime", "value": "20240312-09:30:00.000", "meaning": None},
            {"tag": 56, "name": "TargetCompID", "value": "LPSIM", "meaning": None},
            {"tag": 98, "name": "EncryptMethod", "value": "0", "meaning": "NONE"},
            {"tag": 108, "name": "HeartBtInt", "value": "30", "meaning": None},
            {"tag": 141, "name": "ResetSeqNumFlag", "value": "Y", "meaning": "YES"},
            {"tag": 10, "name": "CheckSum", "value": "113", "meaning": None},
        ],
        "error": None,
        "notes": [],
    }
    nos = objects[4]
    (parties,) = [f for f in nos["fields"] if f["tag"] == 453]
    assert parties["value"] == "2"
    first, second = parties["entries"]
    assert [(f["tag"], f["value"]) for f in first[:3]] == [(448, "DESK-7"), (447, "D"), (452, "11")]
    (subs,) = [f for f in first if f["tag"] == 802]
    assert subs["entries"] == [
        [
            {"tag": 523, "name": "PartySubID", "value": "FX-EMEA", "meaning": None},
            {"tag": 803, "name": "PartySubIDType", "value": "24", "meaning": "DEPARTMENT"},
        ]
    ]
    assert [f["value"] for f in second] == ["TRIFIX-GW", "D", "1"]
    assert "entries" not in first[0]
    snapshot = objects[13]
    assert snapshot["msg_type_name"] == "MarketDataSnapshotFullRefresh"
    (entries,) = [f["entries"] for f in snapshot["fields"] if f["tag"] == 268]
    assert [[f["meaning"] for f in e if f["tag"] == 269] for e in entries] == [
        ["BID"],
        ["BID"],
        ["OFFER"],
        ["OFFER"],
    ]
    garbled = objects[15]
    assert garbled["msg_type"] is None
    assert garbled["fields"] == []
    assert garbled["error"]["kind"] == "garbled"
    assert garbled["error"]["reason"] == "CheckSum is 091 but the bytes sum to 090"
    assert garbled["error"]["data"].startswith("8=FIX.4.4\\x019=55\\x0135=0")
    assert objects[20]["error"] == {
        "kind": "reject",
        "reason": 5,
        "reason_text": "Value is incorrect (out of range) for this tag",
        "ref_tag": 54,
        "ref_msg_type": "D",
        "text": "Value is incorrect (out of range) for this tag, field=54",
    }
    assert [o["index"] for o in objects if o["error"] is not None] == [16, 21]


def test_json_ignores_color_and_prints_no_summary() -> None:
    result = run("decode", "--json", "--color", input=heartbeat() + b"\n")
    assert result.exit_code == 0
    assert ANSI not in result.stdout
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["label"] is None


# -- usage errors and empty input ------------------------------------------------------------------
def test_missing_file_says_which_and_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    result = run("decode", str(missing))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"file not found: '{missing}'" in result.stderr
    assert "give '-' to read standard input" in result.stderr


def test_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = run("decode", str(tmp_path))
    assert result.exit_code == 2
    assert f"cannot read '{tmp_path}'" in result.stderr


class _Terminal(io.BytesIO):
    def isatty(self) -> bool:
        return True


def test_no_file_and_a_terminal_on_stdin_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer, "get_binary_stream", lambda name: _Terminal())
    result = run("decode")
    assert result.exit_code == 2
    assert "no input: give a log file, or pipe messages in" in result.stderr


def test_no_messages_found() -> None:
    result = run("decode", input=b"hello\nworld\n")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no FIX messages found in standard input" in result.stderr


def test_other_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    log = tmp_path / "events.log"
    log.write_bytes(b"session created\n\n" + heartbeat() + b"\nlogged out\n")
    result = run("decode", str(log))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        "1 message: 1 valid, 0 invalid, 0 garbled; 2 other lines skipped"
    )


# -- the decoder directly --------------------------------------------------------------------------
def test_delimiter_conversion_edge_cases() -> None:
    frame = heartbeat(2, (Tag.TEST_REQ_ID, "x||y"))
    # No final delimiter after the CheckSum; an empty piece inside a value stays in the value.
    (d,) = decoded(pipes(frame)[:-1] + b"\n")
    assert d.ok
    assert d.message is not None
    assert d.message[Tag.TEST_REQ_ID] == b"x||y"
    assert d.notes == ()


def test_caret_a_is_preferred_over_pipes() -> None:
    frame = heartbeat(2, (Tag.TEST_REQ_ID, "a|b"))
    (d,) = decoded(frame.replace(SOH, b"^A"))
    assert d.ok
    assert d.message is not None
    assert d.message[Tag.TEST_REQ_ID] == b"a|b"


def test_non_numeric_checksum_in_converted_line_is_noted() -> None:
    (d,) = decoded(pipes(with_checksum(heartbeat(), b"ABC")))
    assert d.ok
    assert d.stated_checksum == "ABC"
    assert d.notes[0].startswith(f"{CONVERTED_NOTE}: CheckSum (10) is ABC")
    assert field_rows(d.message)[-1].value != "ABC"  # type: ignore[arg-type]
    assert field_rows(d.message, d.stated_checksum)[-1].value == "ABC"  # type: ignore[arg-type]


def test_line_without_a_delimiter() -> None:
    (d,) = decoded(b"see 8=FIX.4.4 in the spec\n")
    assert d.garbled is not None
    assert d.garbled.reason == "no field delimiter (SOH, '|' or '^A') after 8=FIX"
    assert d.label == "see"


def test_converted_line_that_ends_inside_its_frame() -> None:
    frame = heartbeat().replace(b"9=55\x01", b"9=500\x01")
    (d,) = decoded(pipes(frame) + b"\n" + b"next line, not FIX\n")
    assert d.garbled is not None
    assert d.garbled.reason == "the line ends inside the frame (is BodyLength (9) right?)"
    assert d.garbled.data.startswith(b"8=FIX.4.4\x019=500\x01")


def test_soh_message_spanning_lines_through_a_data_field() -> None:
    data = b"t1 : " + logon(b"ab\ncd\x02 ") + b"\n" + b"t2 : " + heartbeat() + b"\n"
    first, second = decoded(data)
    assert first.ok
    assert first.label == "t1"
    assert second.label == "t2"
    assert second.ok
    text = render_text(first)
    assert "  96   RawData       = ab\\ncd\\x02 " in text.splitlines()


def test_truncated_soh_line_then_the_next_message_keeps_its_label() -> None:
    cut = heartbeat(2)[:-10]
    data = b"t1 : " + cut + b"\n" + b"t2 : " + heartbeat(3) + b"\n"
    first, second = decoded(data)
    assert first.garbled is not None
    assert first.label == "t1"
    assert second.ok
    assert second.label == "t2"
    assert second.message is not None
    assert second.message.seq_num == 3


def test_stream_ending_inside_a_frame() -> None:
    (d,) = decoded(heartbeat()[:30])
    assert d.garbled is not None
    assert d.garbled.reason == "connection ended inside a frame"


def test_continuation_line_that_completes_nothing_keeps_the_label() -> None:
    data = b"t1 : " + logon(b"ab\nc\nd") + b"\nt2 : " + heartbeat() + b"\n"
    scanner = LogScanner()
    first, second = decode(io.BytesIO(data), scanner=scanner)
    assert first.ok
    assert first.message is not None
    assert first.message[Tag.RAW_DATA] == b"ab\nc\nd"
    assert (first.label, second.label) == ("t1", "t2")
    assert scanner.skipped_lines == 0


def test_unknown_message_type_and_tags_render() -> None:
    frame = Message.new(
        "ZZ",
        (Tag.MSG_SEQ_NUM, 1),
        (Tag.SENDER_COMP_ID, "CLIENT"),
        (9999, "x"),
    ).encode()
    (d,) = decoded(frame)
    assert d.error is not None
    assert d.error.reason == SessionRejectReason.INVALID_MSG_TYPE
    text = render_text(d).splitlines()
    assert text[0] == "#1  Unknown (ZZ)  seq=1  CLIENT -> ?"
    assert "  9999 ?            = x" in text
    obj = to_json(d)
    assert obj["msg_type_name"] is None
    assert obj["target"] is None
    assert {"tag": 9999, "name": None, "value": "x", "meaning": None} in obj["fields"]  # type: ignore[operator]


def test_malformed_tag_and_missing_fields() -> None:
    frame = Message(
        [b"35", b"ab"], [b"0", b"\xff"]
    ).encode()  # a tag that is not a number, a value that is not UTF-8
    (d,) = decoded(frame)
    assert d.error is not None
    assert d.error.reason == SessionRejectReason.INVALID_TAG_NUMBER
    lines = render_text(d).splitlines()
    assert lines[0] == "#1  Heartbeat (0)  seq=?  ? -> ?"
    assert "  ab   ?           = \\xff" in lines
    assert lines[-1] == "  Reject 373=0 (Invalid tag number) ref_tag=0 (tag b'ab')"
    obj = to_json(d)
    assert obj["seq_num"] is None
    assert {"tag": "ab", "name": None, "value": "\\xff", "meaning": None} in obj["fields"]  # type: ignore[operator]


def test_reject_line_without_ref_tag_and_unlisted_reason() -> None:
    msg = Message.from_frame(heartbeat())
    error = ValidationError(SessionRejectReason.OTHER, None, "0")
    text = render_text(Decoded(1, "", msg, error=error))
    assert text.splitlines()[-1] == "  Reject 373=99 (OTHER)"
    assert to_json(Decoded(1, "", msg, error=error))["error"] == {
        "kind": "reject",
        "reason": 99,
        "reason_text": "OTHER",
        "ref_tag": None,
        "ref_msg_type": "0",
        "text": "OTHER",
    }


def test_long_garbled_frame_preview_is_cut() -> None:
    junk = GarbledFrame("data before BeginString (8)", b"x" * 500)
    text = render_text(Decoded(3, "", garbled=junk), color=True)
    head, preview = text.splitlines()
    assert head == "\x1b[1;31m#3  GARBLED: data before BeginString (8)\x1b[0m"
    assert preview == "  " + "x" * 240 + "..."
    assert json.loads(render_json(Decoded(3, "", garbled=junk)))["error"]["data"] == "x" * 500


def test_rows_of_a_message_built_in_memory() -> None:
    msg = Message.new(MsgType.HEARTBEAT, (Tag.MSG_SEQ_NUM, 5))
    rows = field_rows(msg)
    assert [(r.tag, r.value) for r in rows] == [
        ("8", "FIX.4.4"),
        ("9", "10"),
        ("35", "0"),
        ("34", "5"),
        ("10", f"{sum(msg.encode()[:-7]) % 256:03d}"),
    ]


def test_meaning_of_enum_values() -> None:
    (d,) = decoded(order(side=Side.SELL.value), validate=False)
    assert d.error is None
    (side,) = [r for r in field_rows(d.message) if r.tag == "54"]  # type: ignore[arg-type]
    assert (side.name, side.value, side.meaning) == ("Side", "2", "SELL")


def test_tally() -> None:
    tally = Tally()
    assert str(tally) == "0 messages: 0 valid, 0 invalid, 0 garbled"
    for d in decoded(SAMPLE.read_bytes()):
        tally.add(d)
    assert (tally.frames, tally.rejected, tally.garbled, tally.failed) == (25, 1, 1, 2)


# -- the README's promises -------------------------------------------------------------------------
README = SAMPLE.parents[1] / "README.md"


def test_readme_starts_with_the_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.DOTALL)
    assert blocks[:2] == [
        "pip install -e . && trifix run\n",
        "pip install -e '.[dev]' && python -m pytest\n",
    ]


def test_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    exec(compile(code, str(README), "exec"), {})
    assert capsys.readouterr().out.splitlines() == [
        "BUY None",
        "ValidationError(VALUE_IS_INCORRECT, ref_tag=54, ref_msg_type='D')",
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("simulate", "--sender-comp-id"),
        ("conform", "--simulate"),
        ("store", "set-seq"),
        ("replay", "--through"),
    ],
)
def test_the_bundled_tools_are_trifix_commands(command: str, expected: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_conform_runs_the_session_scripts_through_the_trifix_command(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    args = ["conform", "scenarios/session", "--simulate", "echo", "-k", "2.a", "-k", "4.a"]
    result = runner.invoke(app, [*args, "--junit", str(report)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("passed, 0 failed")
    assert "<testsuite" in report.read_text()


def test_config_check_of_a_simulator_file_says_which_command_reads_it() -> None:
    result = runner.invoke(app, ["config", "check", "examples/sim.yaml"])
    assert result.exit_code == 1
    assert "unknown key 'simulator'" in result.stderr
    assert "trifix simulate examples/sim.yaml" in result.stderr
