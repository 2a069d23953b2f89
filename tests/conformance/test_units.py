"""The runner's pieces: placeholders, field lists, frames, matching, script loading, reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.fields import (
    FieldSpecError,
    build_frame,
    frame_fields,
    garble_frame,
    match_fields,
    parse_fields,
    raw_bytes,
    resolve_tag,
)
from conformance.placeholders import PlaceholderError, Template
from conformance.report import error_line, result_line, summary_line, write_junit
from conformance.runner import ScriptResult, select
from conformance.script import Expect, ScriptError, load_script, load_scripts
from trifix.core.codec import Framer, GarbledFrame
from trifix.core.message import Message

NOW = datetime(2026, 11, 25, 9, 0, 0, 250000, tzinfo=UTC)
SCENARIOS = Path(__file__).parents[2] / "scenarios" / "session"


# -- placeholders -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{now}", "20261125-09:00:00.250"),
        ("{now-120s}", "20261125-08:58:00.250"),
        ("{now+2m}", "20261125-09:02:00.250"),
        ("{now+500ms}", "20261125-09:00:00.750"),
        ("{now-1h}", "20261125-08:00:00.250"),
        ("{now-90}", "20261125-08:58:30.250"),
        ("{out_seq}", "7"),
        ("{out_seq+3}", "10"),
        ("{ out_seq - 1 }", "6"),
        ("id-{req}-x", "id-ABC-x"),
        ("{{literal}}", "{literal}"),
        ("no placeholders", "no placeholders"),
    ],
)
def test_placeholders_render(text: str, expected: str) -> None:
    assert Template.parse(text).render(NOW, {"out_seq": 7, "req": "ABC"}) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{1abc}", "bad placeholder {1abc}"),
        ("{now*2}", "bad placeholder {now*2}"),
        ("{out_seq+2s}", "time units only apply to {now}"),
        ("{out_seq+1.5}", "offsets of numbers are integers"),
        ("{}", "bad placeholder {}"),
        ("{now", "unbalanced brace"),
        ("now}", "unbalanced brace"),
    ],
)
def test_bad_placeholders_are_refused_when_parsed(text: str, message: str) -> None:
    with pytest.raises(PlaceholderError, match=message.replace("{", r"\{").replace("*", r"\*")):
        Template.parse(text)


def test_placeholders_fail_at_render_time_without_a_value() -> None:
    with pytest.raises(PlaceholderError, match="has no value yet"):
        Template.parse("{req}").render(NOW, {})
    with pytest.raises(PlaceholderError, match="not a number"):
        Template.parse("{req+1}").render(NOW, {"req": "ABC"})
    assert Template.parse("{now} {req}").names == {"now", "req"}


@given(st.text(alphabet=st.characters(blacklist_characters="{}")))
def test_text_without_braces_renders_as_itself(text: str) -> None:
    template = Template.parse(text)
    assert template.is_literal
    assert template.render(NOW, {}) == text


# -- field lists and frames ---------------------------------------------------------------------


def test_field_lists_in_three_forms_are_the_same() -> None:
    as_string = parse_fields("35=A|108=30|141=Y|", expect=False)
    as_mapping = parse_fields(
        {"MsgType": "A", "HeartBtInt": 30, "RESET_SEQ_NUM_FLAG": True}, expect=False
    )
    as_list = parse_fields(["35=A", {108: 30}, {"141": "Y"}], expect=False)

    def flat(specs: list) -> list:  # type: ignore[type-arg]
        return [(s.tag, s.template.text) for s in specs]

    assert (
        flat(as_string) == flat(as_mapping) == flat(as_list) == [(35, "A"), (108, "30"), (141, "Y")]
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("35", "is not tag=value"),
        ("Nonsense=1", "unknown tag 'Nonsense'"),
        ({0: "x"}, "tag numbers are positive"),
        ({True: "x"}, "is not a tag"),
        (42, "a field list is"),
        ([["35=A"]], "each entry of a field list"),
        ({35: [1]}, "must be text or a number"),
        ("58=re:(", "bad pattern"),
        ("52={bad placeholder}", "bad placeholder"),
    ],
)
def test_bad_field_lists_name_the_problem(value: object, message: str) -> None:
    with pytest.raises(FieldSpecError, match=message.replace("(", r"\(")):
        parse_fields(value, expect=True)


def test_tag_names_resolve() -> None:
    assert resolve_tag("TestReqID") == 112
    assert resolve_tag("ClOrdID") == 11
    assert resolve_tag(" 34 ") == 34


def _header(seq: int = 2) -> dict[int, str]:
    return {49: "GW", 56: "LP", 34: str(seq), 52: "20261125-09:00:00.000"}


def test_built_frames_have_the_header_length_and_checksum_the_framer_expects() -> None:
    frame = build_frame([(35, "1"), (112, "X")], begin_string="FIX.4.4", header=_header())
    [msg] = Framer().feed(frame)
    assert isinstance(msg, Message)
    assert str(msg) == "35=1|49=GW|56=LP|34=2|52=20261125-09:00:00.000|112=X"


def test_written_header_fields_win_and_null_leaves_them_out() -> None:
    fields = [(35, "1"), (49, "XX"), (34, None), (112, "X")]
    frame = build_frame(fields, begin_string="FIX.4.4", header=_header())
    [msg] = Framer().feed(frame)
    assert str(msg) == "35=1|56=LP|52=20261125-09:00:00.000|49=XX|112=X"


def test_framing_fields_can_be_written_wrong_on_purpose() -> None:
    frame = build_frame([(8, "FIX.4.2"), (35, "0"), (10, "000")], begin_string="FIX.4.4", header={})
    assert frame == b"8=FIX.4.2\x019=5\x0135=0\x0110=000\x01"
    assert (
        build_frame([(8, None), (9, None), (35, "0"), (10, None)], begin_string="X", header={})
        == b"35=0\x01"
    )


@pytest.mark.parametrize("how", ["checksum", "body_length"])
def test_garbled_frames_are_refused_by_a_framer(how: str) -> None:
    frame = build_frame([(35, "1"), (112, "X")], begin_string="FIX.4.4", header=_header())
    [bad] = Framer().feed(garble_frame(frame, how))
    assert isinstance(bad, GarbledFrame)
    with pytest.raises(FieldSpecError):
        garble_frame(frame, "nonsense")


def test_raw_bytes_take_pipes_and_escaped_soh() -> None:
    assert raw_bytes("8=FIX.4.4|9=5\\x0135=0|") == b"8=FIX.4.4\x019=5\x0135=0\x01"


def _got() -> list[tuple[int, str]]:
    frame = build_frame(
        [(35, "0"), (112, "T1"), (58, "a"), (58, "b")], begin_string="FIX.4.4", header=_header()
    )
    [msg] = Framer().feed(frame)
    assert isinstance(msg, Message)
    return frame_fields(msg)


@pytest.mark.parametrize(
    ("expected", "difference"),
    [
        ("35=0|112=T1", None),
        ("8=FIX.4.4|9=1|35=0|52=x|58=a|58=b|10=999", None),  # volatile fields by shape
        ({35: "0", 112: "*", 141: None}, None),
        ({35: "0", 112: "re:T[0-9]"}, None),
        ("35=1", "35: expected '1', got '0'"),
        ("35=0|112=T2", "112: expected 'T2', got 'T1'"),
        ("112=T1|35=0", "35: out of order, expected after 112"),
        ("35=0|7=1", "7: missing, expected '1'"),
        ({35: "0", 112: None}, "112: expected absent, got 'T1'"),
        ({35: "0", 112: "re:X.*"}, "112: expected /X.*/, got 'T1'"),
        ({35: "0", 45: "*"}, "45: missing, expected any value"),
        ("58=a|58=c", "58: expected 'c', got 'b'"),
        ("35=0|58=a|58=b|58=c", "58: missing, expected 'c'"),
        ({35: "0", 122: "re:x"}, "122: missing, expected /x/"),
        ("122=anything", "122: missing, expected a UTCTimestamp"),
    ],
)
def test_matching_reports_the_first_difference(expected: object, difference: str | None) -> None:
    specs = parse_fields(expected, expect=True)
    rendered = [(s, None if s.template is None else s.template.text) for s in specs]
    assert match_fields(rendered, _got()) == difference


def test_a_volatile_field_with_the_wrong_shape_differs() -> None:
    got = [(52, "yesterday")]
    [spec] = parse_fields("52={now}", expect=True)
    assert match_fields([(spec, "x")], got) == "52: expected a UTCTimestamp, got 'yesterday'"


# -- scripts ------------------------------------------------------------------------------------

GOOD = """\
case: "2.a"
title: a script
roles: [acceptor, initiator]
vars: {order: ORD-1}
steps:
  - connect
  - logon: {heartbeat: 1, fields: {553: user}}
  - send: "35=D|11={order}"
  - expect: {fields: "35=1", capture: {req: TestReqID}, ignore: [0]}
  - send: "35=0|112={req}"
  - note: a note
    expect_nothing: {for: 1}
  - set: {out_seq: 5}
  - wait: 0.1
  - sim: {session: GW, action: induce_gap, args: {count: 1}}
  - expect_any_order: ["35=0", "35=1"]
  - expect_disconnect: 2
  - disconnect
"""


def test_a_good_script_loads_with_its_steps() -> None:
    script = load_script(Path("good.yaml"), GOOD)
    assert script.case == "2.a"
    assert [s.kind for s in script.steps] == [
        "connect",
        "logon",
        "send",
        "expect",
        "send",
        "expect_nothing",
        "set",
        "wait",
        "sim",
        "expect_any_order",
        "expect_disconnect",
        "disconnect",
    ]
    expect = script.steps[3]
    assert isinstance(expect, Expect)
    assert expect.capture == {"req": 112}
    assert expect.ignore == {"0"}
    assert script.steps[5].note == "a note"
    assert [s.line for s in script.steps][:3] == [6, 7, 8]


@pytest.mark.parametrize(
    ("text", "line", "step", "message"),
    [
        ("case: x\nsteps: [connect\n", 3, None, "invalid YAML"),
        ("- just a list", 1, None, "a script is a mapping"),
        ("case: x\nstepz: []\n", 1, None, "unknown key 'stepz'"),
        ("steps: [connect]\n", 1, None, "'case' is required"),
        ("case: x\nroles: [server]\nsteps: [connect]\n", 1, None, "each role is"),
        ("case: x\nvars: [1]\nsteps: [connect]\n", 1, None, "'vars' must be a mapping"),
        ("case: x\nheartbeat: -1\nsteps: [connect]\n", 1, None, "not a non-negative number"),
        ("case: x\nheartbeat: 1.5\nsteps: [connect]\n", 1, None, "not a whole number"),
        ("case: x\nreset: maybe\nsteps: [connect]\n", 1, None, "not true or false"),
        ("case: x\nsteps: []\n", 1, None, "non-empty list"),
        ("case: x\ncase: y\nsteps: [connect]\n", 2, None, "duplicate key 'case'"),
        ("case: x\nsteps:\n  - connect\n  - jump\n", 4, 2, "unknown step 'jump'"),
        ("case: x\nsteps:\n  - {send: '35=0', expect: '35=0'}\n", 3, 1, "a step is one of"),
        ("case: x\nsteps:\n  - 42\n", 3, 1, "a step is one of"),
        ("case: x\nsteps:\n  - send: '35=0|52={nope'\n", 3, 1, None),
        ("case: x\nsteps:\n  - send: '35=1|112={req}'\n", 3, 1, "{req} is not set before"),
        ("case: x\nsteps:\n  - send: '35=1|112={now*2}'\n", 3, 1, "bad placeholder"),
        ("case: x\nsteps:\n  - send: {raw: x, fields: y}\n", 3, 1, "either 'fields'"),
        ("case: x\nsteps:\n  - send: {raw: x, garble: checksum}\n", 3, 1, "'garble' applies"),
        ("case: x\nsteps:\n  - send: {fields: '35=0', garble: bits}\n", 3, 1, "garble: 'bits'"),
        ("case: x\nsteps:\n  - send: {fields: '35=0', advance: true}\n", 3, 1, "raw sends only"),
        ("case: x\nsteps:\n  - disconnect: now\n", 3, 1, "takes no arguments"),
        ("case: x\nsteps:\n  - logon: {hb: 1}\n", 3, 1, "unknown key 'hb'"),
        ("case: x\nsteps:\n  - logon: 5\n", 3, 1, "takes a mapping"),
        ("case: x\nsteps:\n  - expect: {fields: '35=0', capture: [1]}\n", 3, 1, "capture:"),
        (
            "case: x\nsteps:\n  - expect: {fields: '35=0', capture: {a: Nope}}\n",
            3,
            1,
            "unknown tag",
        ),
        ("case: x\nsteps:\n  - expect_nothing: {ignore: [0]}\n", 3, 1, "needs a duration"),
        ("case: x\nsteps:\n  - expect_any_order: []\n", 3, 1, "list of field lists"),
        ("case: x\nsteps:\n  - wait: soon\n", 3, 1, "wait:"),
        ("case: x\nsteps:\n  - set: {}\n", 3, 1, "set takes a mapping"),
        ("case: x\nsteps:\n  - sim: {session: GW}\n", 3, 1, "needs an 'action'"),
        ("case: x\nsteps:\n  - sim: {action: a, args: [1]}\n", 3, 1, "'args' must be"),
        ("case: x\nsteps:\n  - sim: {action: a, args: {on: 1}}\n", 3, 1, "quote them"),
    ],
)
def test_script_errors_name_file_line_and_step(
    text: str, line: int, step: int | None, message: str | None
) -> None:
    with pytest.raises(ScriptError) as info:
        load_script(Path("bad.yaml"), text)
    error = info.value
    assert (error.path, error.line, error.step) == (Path("bad.yaml"), line, step)
    if message is not None:
        assert message in error.message
    prefix = f"bad.yaml:{line}: " + ("" if step is None else f"step {step}: ")
    assert str(error).startswith(prefix)
    assert error_line(error).startswith("ERROR bad.yaml:")


def test_load_scripts_collects_every_error_and_sorts_naturally(tmp_path: Path) -> None:
    (tmp_path / "10-a.yaml").write_text("case: '10'\nsteps: [connect]\n")
    (tmp_path / "2-a.yml").write_text("case: '2'\nsteps: [connect]\n")
    (tmp_path / "3-bad.yaml").write_text("case: '3'\nsteps: [fly]\n")
    (tmp_path / "notes.txt").write_text("ignored")
    scripts, errors = load_scripts([tmp_path, tmp_path / "missing.yaml"])
    assert [s.name for s in scripts] == ["2-a", "10-a"]
    assert [e.path.name for e in errors] == ["3-bad.yaml", "missing.yaml"]
    assert "cannot read the script" in errors[1].message
    assert [s.name for s in select(scripts, ["10"])] == ["10-a"]
    assert [s.name for s in select(scripts, ["2-*"])] == ["2-a"]
    assert select(scripts, []) == scripts


def test_every_session_scenario_loads() -> None:
    scripts, errors = load_scripts([SCENARIOS])
    assert errors == []
    assert len(scripts) >= 40
    assert all(s.title and s.case for s in scripts)


# -- reports ------------------------------------------------------------------------------------


def test_result_lines_summary_and_junit(tmp_path: Path) -> None:
    script = load_script(Path("scenarios/session/x.yaml"), GOOD)
    results = [
        ScriptResult(script, "passed", 0.5, transcript=("> 8=FIX.4.4|", "< \x02garbled\x01")),
        ScriptResult(script, "failed", 1.0, script.steps[3], "35: expected '1', got '0'"),
        ScriptResult(script, "skipped", reason="needs an engine that is initiator"),
    ]
    assert [result_line(r) for r in results] == [
        "PASS x",
        "FAIL x: step 4 (expect, line 9): 35: expected '1', got '0'",
        "SKIP x: needs an engine that is initiator",
    ]
    assert summary_line(results) == "1 passed, 1 failed, 1 skipped"
    assert summary_line(results[:2]) == "1 passed, 1 failed"
    noted = ScriptResult(script, "failed", 0, script.steps[5], "boom")
    assert result_line(noted) == "FAIL x: step 6 (expect_nothing, line 11: a note): boom"
    path = tmp_path / "junit.xml"
    write_junit(results, path)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert cases[0].get("name") == "x [2.a]"
    assert "\\x02garbled\\x01" in (cases[0].findtext("system-out") or "")
    failure = cases[1].find("failure")
    assert failure is not None
    assert "35: expected '1'" in (failure.get("message") or "")
    assert cases[2].find("skipped") is not None
