"""Conformance scripts: the YAML format, read into checked values before anything runs.

A script is one FIX test case::

    case: "2.b"
    title: MsgSeqNum higher than expected
    roles: [acceptor, initiator]   # the roles of the engine under test it applies to
    assumes: the engine resets sequence numbers on a Logon with 141=Y
    heartbeat: 30
    steps:
      - connect
      - logon
      - send: "35=1|34={out_seq+3}|112=GAP"    # three above the expected number
      - expect: "35=2|7=2|16=0"                # ResendRequest from 2 (our Logon was 1)

Everything is checked when the file is loaded: unknown keys and steps, malformed field lists,
placeholders that cannot parse or name a variable no earlier step sets. Each problem is a
`ScriptError` naming the file, the line and the step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from conformance.fields import GARBLES, FieldSpec, FieldSpecError, parse_fields, resolve_tag
from conformance.placeholders import BUILTIN_NAMES, PlaceholderError, Template
from conformance.yamlsource import LineDict, LineList, YamlError, load_yaml
from trifix.core.settings import Role

__all__ = [
    "Connect",
    "Disconnect",
    "Expect",
    "ExpectAnyOrder",
    "ExpectDisconnect",
    "ExpectNothing",
    "Logon",
    "Script",
    "ScriptError",
    "Send",
    "SetVars",
    "Sim",
    "Step",
    "Wait",
    "load_script",
    "load_scripts",
]

_HEADER_KEYS: Final = frozenset(
    {
        "kind",
        "case",
        "title",
        "roles",
        "assumes",
        "sender_comp_id",
        "target_comp_id",
        "begin_string",
        "heartbeat",
        "reset",
        "check_seq",
        "step_timeout",
        "timeout",
        "vars",
        "steps",
    }
)


class ScriptError(Exception):
    """A script that cannot be loaded: bad YAML, an unknown step, a bad placeholder...

    Attributes:
        path: the script file.
        line: 1-based line of the problem (0 when unknown).
        step: 1-based step number, or None for the header.
        message: what is wrong and how to fix it.
    """

    def __init__(self, path: Path, line: int, message: str, step: int | None = None) -> None:
        self.path = path
        self.line = line
        self.step = step
        self.message = message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {'' if step is None else f'step {step}: '}{message}")


# -- steps -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """What every step has: its position, its line and an optional note shown in failures."""

    index: int
    line: int
    note: str | None

    @property
    def kind(self) -> str:
        """The step's name as written in scripts."""
        return _KIND_OF[type(self)]


@dataclass(frozen=True, slots=True)
class Connect(Step):
    """Open the connection: dial the target, or accept the engine's connection (--listen)."""

    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Disconnect(Step):
    """Close our side of the connection."""


@dataclass(frozen=True, slots=True)
class Logon(Step):
    """The Logon exchange for the run's role: send ours and expect theirs (engine = acceptor),
    or expect theirs and answer it (engine = initiator)."""

    reset: bool | None = None
    heartbeat: Template | None = None
    fields: tuple[FieldSpec, ...] = ()
    expect: tuple[FieldSpec, ...] = ()
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Send(Step):
    """Send a message built from `fields` (spoilt by `garble`, when given), or `raw` bytes as
    written."""

    fields: tuple[FieldSpec, ...] = ()
    raw: Template | None = None
    advance: bool = False
    garble: str | None = None


@dataclass(frozen=True, slots=True)
class Expect(Step):
    """Receive the next message and match it; `capture` saves field values in variables."""

    fields: tuple[FieldSpec, ...] = ()
    timeout: float | None = None
    capture: Mapping[str, int] = field(default_factory=dict)
    check_seq: bool | None = None
    ignore: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ExpectAnyOrder(Step):
    """Receive one message per field list, in any order (e.g. a resend and a ResendRequest
    that the FIX rules do not order)."""

    messages: tuple[tuple[FieldSpec, ...], ...] = ()
    timeout: float | None = None
    ignore: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ExpectDisconnect(Step):
    """The engine closes the connection within the timeout (no message before, but `ignore`)."""

    timeout: float | None = None
    ignore: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ExpectNothing(Step):
    """No message and no disconnect for `duration` seconds (but `ignore` d MsgTypes)."""

    duration: float = 1.0
    ignore: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Wait(Step):
    """Pause; messages arriving meanwhile are kept for the next expectation."""

    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SetVars(Step):
    """Set variables (``out_seq`` and ``in_seq`` move the runner's sequence numbers)."""

    values: Mapping[str, Template] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sim(Step):
    """Call the in-process simulator's control API: ``session``, ``action``, ``args``."""

    session: str = ""
    action: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)


_KIND_OF: Final[dict[type[Step], str]] = {
    Connect: "connect",
    Disconnect: "disconnect",
    Logon: "logon",
    Send: "send",
    Expect: "expect",
    ExpectAnyOrder: "expect_any_order",
    ExpectDisconnect: "expect_disconnect",
    ExpectNothing: "expect_nothing",
    Wait: "wait",
    SetVars: "set",
    Sim: "sim",
}


@dataclass(frozen=True, slots=True)
class Script:
    """A loaded script: a FIX test case as steps, with the session it needs.

    Attributes:
        path: the file it came from.
        name: the file name without ``.yaml``.
        case: the FIX session test case id (e.g. ``"2.b"``).
        title: a one-line description.
        roles: roles of the engine under test the script applies to.
        assumes: what the script assumes of the engine (free text, shown in docs and reports).
        sender_comp_id, target_comp_id: the runner's and the engine's CompIDs (None: the run's).
        begin_string: BeginString for messages we send and expect.
        heartbeat: HeartBtInt our Logon asks for (engine = acceptor).
        reset: whether `logon` steps send and expect 141=Y unless they say otherwise.
        check_seq: whether expectations check the engine's MsgSeqNum by default.
        step_timeout: default wait of expecting steps, in seconds (None: the run's).
        timeout: the cap on the whole script, in seconds (None: the run's).
        variables: initial values of the script's own variables.
        steps: the steps.
    """

    path: Path
    name: str
    case: str
    title: str
    roles: frozenset[Role]
    assumes: str
    sender_comp_id: str | None
    target_comp_id: str | None
    begin_string: str
    heartbeat: int
    reset: bool
    check_seq: bool
    step_timeout: float | None
    timeout: float | None
    variables: Mapping[str, str]
    steps: tuple[Step, ...]


# -- loading ------------------------------------------------------------------------------------


class _Bad(Exception):
    """A problem inside one step or header key; the loader adds file, line and step."""


def load_scripts(paths: list[Path]) -> tuple[list[Script], list[ScriptError]]:
    """Load every ``*.yaml``/``*.yml`` file under `paths` (files or directories), sorted.

    Returns the scripts and the errors; one bad file never hides the others.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
            files.extend(sorted(found, key=_natural))
        else:
            files.append(path)
    scripts: list[Script] = []
    errors: list[ScriptError] = []
    for file in files:
        try:
            scripts.append(load_script(file))
        except ScriptError as exc:
            errors.append(exc)
    return scripts, errors


def _natural(path: Path) -> list[object]:
    """Sort key putting ``2-a`` before ``10-a`` (test case numbers sort as numbers)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def load_script(path: Path, text: str | None = None) -> Script:
    """Load and check one script (`text` instead of reading `path`, for tests).

    Raises:
        ScriptError: anything wrong, with the file, line and step.
    """
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScriptError(path, 0, f"cannot read the script: {exc.strerror}") from None
    try:
        doc = load_yaml(text)
    except YamlError as exc:
        raise ScriptError(path, exc.line, str(exc)) from None
    if not isinstance(doc, LineDict):
        raise ScriptError(path, 1, "a script is a mapping with 'case' and 'steps'")
    kind = doc.get("kind", "session")
    if kind == "e2e":
        from conformance.e2e_script import build_e2e_script  # it builds on this module

        return build_e2e_script(path, doc)
    if kind != "session":
        raise ScriptError(path, doc.line, f"kind: {kind!r} is 'session' (the default) or 'e2e'")
    unknown = sorted(str(k) for k in doc if k not in _HEADER_KEYS)
    if unknown:
        raise ScriptError(
            path, doc.line, f"unknown key {unknown[0]!r}; known: {', '.join(sorted(_HEADER_KEYS))}"
        )
    try:
        header = _header(doc)
    except _Bad as exc:
        raise ScriptError(path, doc.line, str(exc)) from None
    steps_node = doc.get("steps")
    if not isinstance(steps_node, LineList) or not steps_node:
        raise ScriptError(path, doc.line, "'steps' must be a non-empty list of steps")
    known = set(BUILTIN_NAMES) | set(header["variables"])
    steps = []
    for i, (node, line) in enumerate(zip(steps_node, steps_node.item_lines, strict=True), 1):
        try:
            step = _step(node, i, line)
            _check_names(step, known)
        except _Bad as exc:
            raise ScriptError(path, line, str(exc), step=i) from None
        steps.append(step)
    return Script(path=path, name=path.stem, steps=tuple(steps), **header)


def _header(doc: LineDict) -> dict[str, Any]:
    case = doc.get("case")
    if case is None or str(case).strip() == "":
        raise _Bad("'case' is required: the FIX session test case id, e.g. case: \"2.b\"")
    roles_node = doc.get("roles", ["acceptor"])
    if isinstance(roles_node, str):
        roles_node = [roles_node]
    try:
        roles = frozenset(Role(str(r)) for r in roles_node)
    except ValueError:
        raise _Bad(f"roles: {roles_node!r}: each role is 'acceptor' or 'initiator'") from None
    variables = doc.get("vars", {})
    if not isinstance(variables, Mapping):
        raise _Bad("'vars' must be a mapping of names to values")
    return {
        "case": str(case),
        "title": str(doc.get("title", "")),
        "roles": roles,
        "assumes": str(doc.get("assumes", "")),
        "sender_comp_id": _opt_str(doc, "sender_comp_id"),
        "target_comp_id": _opt_str(doc, "target_comp_id"),
        "begin_string": str(doc.get("begin_string", "FIX.4.4")),
        "heartbeat": _number(doc.get("heartbeat", 30), "heartbeat", int),
        "reset": _flag(doc.get("reset", True), "reset"),
        "check_seq": _flag(doc.get("check_seq", True), "check_seq"),
        "step_timeout": _opt_seconds(doc.get("step_timeout"), "step_timeout"),
        "timeout": _opt_seconds(doc.get("timeout"), "timeout"),
        "variables": {str(k): str(v) for k, v in variables.items()},
    }


def _opt_str(node: Mapping[str, Any], key: str) -> str | None:
    value = node.get(key)
    return None if value is None else str(value)


def _flag(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"{key}: {value!r} is not true or false")
    return value


def _number(value: object, key: str, kind: Callable[[Any], Any] = float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _Bad(f"{key}: {value!r} is not a non-negative number")
    if kind is int and value != int(value):
        raise _Bad(f"{key}: {value!r} is not a whole number")
    return kind(value)


def _opt_seconds(value: object, key: str) -> float | None:
    return None if value is None else float(_number(value, key))


def _fields(value: object, *, expect: bool) -> tuple[FieldSpec, ...]:
    try:
        return tuple(parse_fields(value, expect=expect))
    except FieldSpecError as exc:
        raise _Bad(str(exc)) from None


def _template(value: object, what: str) -> Template:
    try:
        return Template.parse(str(value))
    except PlaceholderError as exc:
        raise _Bad(f"{what}: {exc}") from None


def _ignore(args: Mapping[str, Any]) -> frozenset[str]:
    value = args.get("ignore", [])
    if not isinstance(value, list):
        value = [value]
    return frozenset(str(v) for v in value)


def _args(value: object, kind: str, allowed: set[str], shorthand: str | None) -> dict[str, Any]:
    """A step's arguments as a mapping (a bare value is the `shorthand` key)."""
    if value is None:
        return {}
    if isinstance(value, LineDict) and (shorthand is None or set(value) <= allowed):
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise _Bad(f"{kind}: unknown key {unknown[0]!r}; known: {', '.join(sorted(allowed))}")
        return dict(value)
    if shorthand is None:
        raise _Bad(f"{kind} takes a mapping of {', '.join(sorted(allowed))}")
    return {shorthand: value}


def _split_step(
    node: object, known: Mapping[str, object], what: str = "step"
) -> tuple[str, object, str | None]:
    """A step's kind, its value and its optional note, for the step kinds in `known`
    (a bare name, or a one-key mapping plus ``note``)."""
    note: str | None = None
    value: object = None
    if isinstance(node, str):
        kind = node.strip()
    elif isinstance(node, LineDict):
        entries = dict(node)
        note_value = entries.pop("note", None)
        note = None if note_value is None else str(note_value)
        if len(entries) != 1:
            raise _Bad(f"a step is one of {', '.join(known)} (with an optional 'note')")
        ((kind, value),) = entries.items()
        kind = str(kind)
    else:
        raise _Bad(f"a step is one of {', '.join(known)}, not {node!r}")
    if kind not in known:
        raise _Bad(f"unknown {what} {kind!r}; known steps: {', '.join(known)}")
    return kind, value, note


def _step(node: object, index: int, line: int) -> Step:
    kind, value, note = _split_step(node, _BUILDERS)
    return _BUILDERS[kind](value, index, line, note)


def _connect(value: object, index: int, line: int, note: str | None) -> Step:
    args = _args(value, "connect", {"timeout"}, "timeout")
    return Connect(index, line, note, _opt_seconds(args.get("timeout"), "timeout"))


def _disconnect(value: object, index: int, line: int, note: str | None) -> Step:
    if value is not None:
        raise _Bad("disconnect takes no arguments")
    return Disconnect(index, line, note)


def _logon(value: object, index: int, line: int, note: str | None) -> Step:
    args = _args(value, "logon", {"reset", "heartbeat", "fields", "expect", "timeout"}, None)
    reset = args.get("reset")
    heartbeat = args.get("heartbeat")
    return Logon(
        index,
        line,
        note,
        reset=None if reset is None else _flag(reset, "reset"),
        heartbeat=None if heartbeat is None else _template(heartbeat, "heartbeat"),
        fields=_fields(args.get("fields", []), expect=False),
        expect=_fields(args.get("expect", []), expect=True),
        timeout=_opt_seconds(args.get("timeout"), "timeout"),
    )


def _send(value: object, index: int, line: int, note: str | None) -> Step:
    args = _args(value, "send", {"fields", "raw", "advance", "garble"}, "fields")
    if ("fields" in args) == ("raw" in args):
        raise _Bad("send needs either 'fields' (a message) or 'raw' (bytes), not both")
    if "raw" in args:
        if "garble" in args:
            raise _Bad("'garble' applies to messages built from fields, not raw bytes")
        return Send(
            index,
            line,
            note,
            raw=_template(args["raw"], "raw"),
            advance=_flag(args.get("advance", False), "advance"),
        )
    if "advance" in args:
        raise _Bad("'advance' applies to raw sends only")
    garble = args.get("garble")
    if garble is not None and garble not in GARBLES:
        raise _Bad(f"garble: {garble!r} is not one of {', '.join(GARBLES)}")
    fields = _fields(args["fields"], expect=False)
    return Send(index, line, note, fields=fields, garble=None if garble is None else str(garble))


def _expect(value: object, index: int, line: int, note: str | None) -> Step:
    args = _args(value, "expect", {"fields", "timeout", "capture", "check_seq", "ignore"}, "fields")
    capture_node = args.get("capture", {})
    if not isinstance(capture_node, Mapping):
        raise _Bad("capture: a mapping of variable names to tags, e.g. {req_id: TestReqID}")
    try:
        capture = {str(name): resolve_tag(tag) for name, tag in capture_node.items()}
    except FieldSpecError as exc:
        raise _Bad(f"capture: {exc}") from None
    check_seq = args.get("check_seq")
    return Expect(
        index,
        line,
        note,
        fields=_fields(args.get("fields", []), expect=True),
        timeout=_opt_seconds(args.get("timeout"), "timeout"),
        capture=capture,
        check_seq=None if check_seq is None else _flag(check_seq, "check_seq"),
        ignore=_ignore(args),
    )


def _expect_any_order(value: object, index: int, line: int, note: str | None) -> Step:
    args = _args(value, "expect_any_order", {"messages", "timeout", "ignore"}, "messages")
    messages = args.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _Bad("expect_any_order takes a list of field lists, one per message expected")
    return ExpectAnyOrder(
        index,
        line,
        note,
        messages=tuple(_fields(m, expect=True) for m in messages),
        timeout=_opt_seconds(args.get("timeout"), "timeout"),
        ignore=_ignore(args),
    )


def _expect_disconnect(value: object, index: int, line: int, note: str | None) -> Step:
    args = _args(value, "expect_disconnect", {"timeout", "ignore"}, "timeout")
    timeout = _opt_seconds(args.get("timeout"), "timeout")
    return ExpectDisconnect(index, line, note, timeout=timeout, ignore=_ignore(args))


def _expect_nothing(value: object, index: int, line: int, note: str | None) -> Step:
    args = _args(value, "expect_nothing", {"for", "ignore"}, "for")
    if "for" not in args:
        raise _Bad("expect_nothing needs a duration in seconds: expect_nothing: 2")
    duration = float(_number(args["for"], "expect_nothing"))
    return ExpectNothing(index, line, note, duration=duration, ignore=_ignore(args))


def _wait(value: object, index: int, line: int, note: str | None) -> Step:
    return Wait(index, line, note, seconds=float(_number(value, "wait")))


def _set(value: object, index: int, line: int, note: str | None) -> Step:
    if not isinstance(value, Mapping) or not value:
        raise _Bad("set takes a mapping of variable names to values, e.g. set: {out_seq: 10}")
    values = {str(k): _template(v, f"set {k}") for k, v in value.items()}
    return SetVars(index, line, note, values=values)


def _sim(value: object, index: int, line: int, note: str | None) -> Step:
    args = _args(value, "sim", {"session", "action", "args"}, None)
    if "action" not in args:
        raise _Bad("sim needs an 'action' (and usually a 'session'), see docs/simulator.md")
    extra = args.get("args", {})
    if not isinstance(extra, Mapping):
        raise _Bad("sim: 'args' must be a mapping")
    for key in extra:
        if not isinstance(key, str):
            raise _Bad(
                f"sim args: {key!r} is not a name (YAML reads on, off, yes and no as true or "
                "false: quote them, e.g. 'on': true)"
            )
    return Sim(
        index,
        line,
        note,
        session=str(args.get("session", "")),
        action=str(args["action"]),
        args=dict(extra),
    )


_BUILDERS: Final[dict[str, Callable[[object, int, int, str | None], Step]]] = {
    "connect": _connect,
    "disconnect": _disconnect,
    "logon": _logon,
    "send": _send,
    "expect": _expect,
    "expect_any_order": _expect_any_order,
    "expect_disconnect": _expect_disconnect,
    "expect_nothing": _expect_nothing,
    "wait": _wait,
    "set": _set,
    "sim": _sim,
}


def _templates(step: Step) -> list[Template]:
    """Every template a step renders."""
    out: list[Template] = []
    specs: tuple[FieldSpec, ...] = ()
    if isinstance(step, Send):
        specs = step.fields
        if step.raw is not None:
            out.append(step.raw)
    elif isinstance(step, Expect):
        specs = step.fields
    elif isinstance(step, ExpectAnyOrder):
        specs = tuple(spec for message in step.messages for spec in message)
    elif isinstance(step, Logon):
        specs = step.fields + step.expect
        if step.heartbeat is not None:
            out.append(step.heartbeat)
    elif isinstance(step, SetVars):
        out.extend(step.values.values())
    out.extend(s.template for s in specs if s.template is not None)
    return out


def _check_names(step: Step, known: set[str]) -> None:
    """Every variable a step reads is set by then; then add what the step sets."""
    for template in _templates(step):
        missing = sorted(template.names - known)
        if missing:
            raise _Bad(
                f"{{{missing[0]}}} is not set before this step: set it with 'set', "
                "'capture' it in an earlier expect, or declare it under 'vars'"
            )
    if isinstance(step, SetVars):
        known.update(step.values)
    elif isinstance(step, Expect):
        known.update(step.capture)
