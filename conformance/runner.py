"""Running scripts: the runner is the scripted counterparty, speaking raw FIX over a stream.

It frames and parses with `trifix.core` (`Framer`, `Message`) but does not use the session
engine: it must be free to send garbled bytes and wrong sequence numbers, and to check every
byte the engine under test sends back. Per script it keeps the two sequence numbers a FIX
counterparty would (``out_seq``: the next MsgSeqNum we send; ``in_seq``: the next we expect),
the script's variables, and a transcript of the bytes both ways for the report.

Every expectation also checks, unless the step names the field itself: BeginString (8), the
CompIDs (49/56, the engine's and ours), SendingTime's shape (52), and MsgSeqNum (34) against
``in_seq`` (not for PossDupFlag=Y resends, nor with ``check_seq: false``).

Failures are values (`ScriptResult`): a failing or hung script never stops the others. Each
waiting step has a timeout, and each script a cap on its whole run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any, Final, Literal

import trio

from conformance.connectors import Connector
from conformance.fields import (
    FieldSpec,
    build_frame,
    frame_fields,
    garble_frame,
    match_fields,
    raw_bytes,
    show,
)
from conformance.placeholders import PlaceholderError, Template, format_timestamp
from conformance.script import (
    Connect,
    Disconnect,
    Expect,
    ExpectAnyOrder,
    ExpectDisconnect,
    ExpectNothing,
    Logon,
    Script,
    Send,
    SetVars,
    Sim,
    Step,
    Wait,
)
from trifix.core.codec import Framer, GarbledFrame
from trifix.core.message import Message
from trifix.core.settings import Role
from trifix.core.tags import MsgType, Tag

__all__ = ["RunOptions", "ScriptResult", "SimControl", "run_script", "run_scripts", "select"]

SimControl = Callable[[str, str, Mapping[str, Any]], Awaitable[object]]
"""Calls the in-process simulator's control API: ``(session, action, args)``."""

_CLOSED: Final = "closed"
_SEQ_VARS: Final = ("out_seq", "in_seq")


_FINISH_GRACE = 1.0
"""Seconds the runner waits for the engine to close after the script's final Logout."""


def _system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How scripts run; script headers and steps override the defaults, CompIDs excepted.

    Attributes:
        step_timeout: seconds a waiting step (connect, expect...) waits, unless the script
            or the step says otherwise.
        script_timeout: cap on one script's whole run, unless the script says otherwise.
        sender_comp_id, target_comp_id: the runner's and the engine's CompIDs, over what the
            scripts say. Without either, GW (runner) / LP (engine) against an acceptor and
            LP / GW against an initiator.
        clock: wall time for ``{now}`` and SendingTime (tests follow trio's MockClock).
        sim: the simulator's control API, when the simulator runs in-process.
    """

    step_timeout: float = 5.0
    script_timeout: float = 60.0
    sender_comp_id: str | None = None
    target_comp_id: str | None = None
    clock: Callable[[], datetime] = _system_clock
    sim: SimControl | None = None


@dataclass(frozen=True, slots=True)
class ScriptResult:
    """The outcome of one script.

    Attributes:
        script: the script.
        status: passed, failed or skipped (the script does not apply to the engine's role).
        duration: seconds the run took.
        step: the failing step, if any.
        reason: why it failed or was skipped: the first difference, expected vs got.
        transcript: the bytes sent (``>``) and received (``<``), in order.
    """

    script: Script
    status: Literal["passed", "failed", "skipped"]
    duration: float = 0.0
    step: Step | None = None
    reason: str = ""
    transcript: tuple[str, ...] = field(default=(), repr=False)


class _StepFailed(Exception):
    """The current step failed; the message is the first difference."""


def select(scripts: Sequence[Script], patterns: Sequence[str]) -> list[Script]:
    """The scripts whose name or case matches any pattern (a glob, or a substring when the
    pattern has no wildcard; case-insensitive). No patterns selects everything."""
    if not patterns:
        return list(scripts)
    globs = [p.lower() if any(c in p for c in "*?[") else f"*{p.lower()}*" for p in patterns]
    return [
        s
        for s in scripts
        if any(fnmatchcase(s.name.lower(), g) or fnmatchcase(s.case.lower(), g) for g in globs)
    ]


async def run_scripts(
    scripts: Sequence[Script],
    connector: Connector,
    options: RunOptions | None = None,
    on_result: Callable[[ScriptResult], None] | None = None,
) -> list[ScriptResult]:
    """Run `scripts` one after the other against the engine `connector` reaches.

    Args:
        scripts: loaded scripts (see `conformance.script.load_scripts`).
        connector: how to reach the engine; its role decides which scripts apply.
        options: timeouts, CompIDs, clock and simulator control.
        on_result: called with each result as soon as it is known (for live output).
    """
    results = []
    for script in scripts:
        result = await run_script(script, connector, options)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results


async def run_script(
    script: Script, connector: Connector, options: RunOptions | None = None
) -> ScriptResult:
    """Run one script; never raises for anything the engine does (that is a failed result)."""
    options = options or RunOptions()
    role = connector.engine_role
    if role not in script.roles:
        wanted = " or ".join(sorted(r.value for r in script.roles))
        return ScriptResult(script, "skipped", reason=f"needs an engine that is {wanted}")
    if options.sim is None and any(isinstance(step, Sim) for step in script.steps):
        reason = "needs the simulator in-process (it has sim steps)"
        return ScriptResult(script, "skipped", reason=reason)
    return await _ScriptRun(script, connector, options).run()


class _ScriptRun:
    """The state of one script's run: the connection, sequence numbers and variables."""

    def __init__(self, script: Script, connector: Connector, options: RunOptions) -> None:
        self.script = script
        self.connector = connector
        self.options = options
        acceptor = connector.engine_role is Role.ACCEPTOR
        self.ours = options.sender_comp_id or script.sender_comp_id or ("GW" if acceptor else "LP")
        self.theirs = (
            options.target_comp_id or script.target_comp_id or ("LP" if acceptor else "GW")
        )
        self.vars: dict[str, object] = {
            **script.variables,
            "out_seq": 1,
            "in_seq": 1,
            "sender": self.ours,
            "target": self.theirs,
            "heartbeat": script.heartbeat,
        }
        self.stream: trio.abc.Stream | None = None
        self.framer = Framer()
        self.frames: deque[Message | GarbledFrame | str] = deque()
        self.transcript: list[str] = []

    # -- the run ---------------------------------------------------------------------------
    async def run(self) -> ScriptResult:
        start = trio.current_time()
        cap = self.script.timeout or self.options.script_timeout
        step: Step | None = None
        reason = ""
        try:
            with trio.move_on_after(cap) as scope:
                for step in self.script.steps:
                    await self._run_step(step)
            if scope.cancelled_caught:
                reason = f"the script ran over its {cap:g} s cap"
        except _StepFailed as exc:
            reason = str(exc)
        finally:
            with trio.CancelScope(shield=True):
                await self._finish()
        duration = trio.current_time() - start
        transcript = tuple(self.transcript)
        if reason:
            return ScriptResult(self.script, "failed", duration, step, reason, transcript)
        return ScriptResult(self.script, "passed", duration, None, "", transcript)

    async def _run_step(self, step: Step) -> None:
        try:
            if isinstance(step, Connect):
                await self._connect(step)
            elif isinstance(step, Disconnect):
                await self._close()
                self.transcript.append("x we disconnect")
            elif isinstance(step, Logon):
                await self._logon(step)
            elif isinstance(step, Send):
                await self._send_step(step)
            elif isinstance(step, Expect):
                await self._expect(step.fields, step.timeout, step.check_seq, step.ignore, step)
            elif isinstance(step, ExpectAnyOrder):
                await self._expect_any_order(step)
            elif isinstance(step, ExpectDisconnect):
                await self._expect_disconnect(step)
            elif isinstance(step, ExpectNothing):
                await self._expect_nothing(step)
            elif isinstance(step, Wait):
                await trio.sleep(step.seconds)
            elif isinstance(step, SetVars):
                self._set(step)
            elif isinstance(step, Sim):
                await self._sim(step)
        except PlaceholderError as exc:
            raise _StepFailed(str(exc)) from None

    def _timeout(self, value: float | None) -> float:
        if value is not None:
            return value
        return self.script.step_timeout or self.options.step_timeout

    def _now(self) -> datetime:
        return self.options.clock()

    def _render(self, template: Template) -> str:
        return template.render(self._now(), self.vars)

    def _render_opt(self, template: Template | None) -> str | None:
        return None if template is None else self._render(template)

    # -- connection ------------------------------------------------------------------------
    async def _connect(self, step: Connect) -> None:
        await self._close()
        timeout = self._timeout(step.timeout)
        try:
            with trio.fail_after(timeout):
                self.stream = await self.connector.open()
        except trio.TooSlowError:
            raise _StepFailed(f"no connection within {timeout:g} s") from None
        except OSError as exc:
            raise _StepFailed(f"cannot connect: {exc.strerror or exc}") from None
        self.framer = Framer()
        self.frames.clear()
        self.transcript.append("x connected")

    async def _finish(self) -> None:
        """End the connection as a well-behaved counterparty: a Logout, then wait (briefly) for
        the engine to close its side. Then the engine's session is free when the next script
        connects; a bare close races with it (the engine may still hold the session and refuse
        the next Logon as a second connection)."""
        if self.stream is not None:
            with trio.move_on_after(_FINISH_GRACE):
                try:
                    self.transcript.append("x the script is over: we log out")
                    await self._send([(int(Tag.MSG_TYPE), MsgType.LOGOUT.value)])
                    deadline = trio.current_time() + _FINISH_GRACE
                    while (frame := await self._receive(deadline)) is not None:
                        if frame is _CLOSED:
                            break
                except _StepFailed:
                    pass  # the engine is gone already
        await self._close()

    async def _close(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            await stream.aclose()

    def _stream(self) -> trio.abc.Stream:
        if self.stream is None:
            raise _StepFailed("not connected: add a 'connect' step before this one")
        return self.stream

    async def _write(self, data: bytes) -> None:
        stream = self._stream()
        self.transcript.append("> " + data.decode("utf-8", "replace").replace("\x01", "|"))
        try:
            await stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise _StepFailed("cannot send: the engine closed the connection") from None

    async def _receive(self, deadline: float) -> Message | GarbledFrame | str | None:
        """The next frame, `_CLOSED` when the connection ended, None at the deadline."""
        while not self.frames:
            stream = self._stream()
            with trio.move_on_at(deadline):
                try:
                    data = await stream.receive_some(65536)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""
                if data:
                    self.frames.extend(self.framer.feed(data))
                else:
                    self.frames.extend(self.framer.close())
                    self.frames.append(_CLOSED)
                continue
            return None
        frame = self.frames.popleft()
        if isinstance(frame, Message):
            self.transcript.append("< " + show(frame_fields(frame)))
        elif isinstance(frame, GarbledFrame):
            self.transcript.append(f"< garbled ({frame.reason}): {frame.data!r}")
        else:
            self.transcript.append("x the engine disconnected")
        return frame

    # -- sending ---------------------------------------------------------------------------
    async def _send_step(self, step: Send) -> None:
        if step.raw is not None:
            await self._write(raw_bytes(self._render(step.raw)))
            if step.advance:
                self.vars["out_seq"] = self._int("out_seq") + 1
            return
        fields = [
            (s.tag, None if s.template is None else self._render(s.template)) for s in step.fields
        ]
        await self._send(fields, step.garble)

    async def _send(self, fields: list[tuple[int, str | None]], garble: str | None = None) -> None:
        out_seq = self._int("out_seq")
        header: dict[int, str] = {
            Tag.SENDER_COMP_ID: self.ours,
            Tag.TARGET_COMP_ID: self.theirs,
            Tag.MSG_SEQ_NUM: str(out_seq),
            Tag.SENDING_TIME: format_timestamp(self._now()),
        }
        frame = build_frame(fields, begin_string=self.script.begin_string, header=header)
        if garble is not None:
            frame = garble_frame(frame, garble)
        await self._write(frame)
        if garble is not None:
            return  # the engine must ignore it: its number is still to be used
        self.vars["out_seq"] = _next_out_seq(out_seq, dict(fields))

    # -- the logon exchange -----------------------------------------------------------------
    async def _logon(self, step: Logon) -> None:
        reset = self.script.reset if step.reset is None else step.reset
        if reset:
            self.vars["out_seq"] = 1
            self.vars["in_seq"] = 1
        if step.heartbeat is not None:
            self.vars["heartbeat"] = self._render(step.heartbeat)
        ours = [(int(Tag.MSG_TYPE), MsgType.LOGON.value), (int(Tag.ENCRYPT_METHOD), "0")]
        theirs = [FieldSpec(Tag.MSG_TYPE, Template.parse(MsgType.LOGON.value))]
        reset_flag = FieldSpec(Tag.RESET_SEQ_NUM_FLAG, Template.parse("Y"))
        if self.connector.engine_role is Role.ACCEPTOR:
            ours.append((Tag.HEART_BT_INT, str(self.vars["heartbeat"])))
            if reset:
                ours.append((Tag.RESET_SEQ_NUM_FLAG, "Y"))
            await self._send(self._merge_send(ours, step.fields))
            # An acceptor answers with the initiator's HeartBtInt (FIX 4.4 vol. 2).
            theirs.append(FieldSpec(Tag.HEART_BT_INT, Template.parse("{heartbeat}")))
            if reset:
                theirs.append(reset_flag)
            expected = _merge_expect(theirs, step.expect)
            await self._expect(expected, step.timeout, None, frozenset(), step)
            return
        if reset:
            theirs.append(reset_flag)
        message = await self._expect(
            _merge_expect(theirs, step.expect), step.timeout, None, frozenset(), step
        )
        self.vars["heartbeat"] = message.get_str(Tag.HEART_BT_INT, "")
        ours.append((Tag.HEART_BT_INT, str(self.vars["heartbeat"])))
        if reset:
            ours.append((Tag.RESET_SEQ_NUM_FLAG, "Y"))
        await self._send(self._merge_send(ours, step.fields))

    def _merge_send(
        self, base: list[tuple[int, str]], extra: Sequence[FieldSpec]
    ) -> list[tuple[int, str | None]]:
        """`base` with the step's own fields: a tag already there is replaced in place
        (null removes it), others are appended."""
        merged: list[tuple[int, str | None]] = list(base)
        for spec in extra:
            value = None if spec.template is None else self._render(spec.template)
            for i, (tag, _) in enumerate(merged):
                if tag == spec.tag:
                    merged[i] = (tag, value)
                    break
            else:
                merged.append((spec.tag, value))
        return merged

    # -- expectations ----------------------------------------------------------------------
    async def _next_message(
        self, deadline: float, ignore: frozenset[str], expected: str, wait: float
    ) -> Message:
        while True:
            frame = await self._receive(deadline)
            if frame is None:
                raise _StepFailed(f"expected {expected}, got nothing within {wait:g} s")
            if frame == _CLOSED:
                raise _StepFailed(f"expected {expected}, got a disconnect")
            if isinstance(frame, GarbledFrame):
                raise _StepFailed(
                    f"expected {expected}, got a garbled frame ({frame.reason}): {frame.data!r}"
                )
            assert isinstance(frame, Message)
            if frame.msg_type in ignore:
                self._track_seq(frame)
                continue
            return frame

    async def _expect(
        self,
        specs: Sequence[FieldSpec],
        step_timeout: float | None,
        check_seq: bool | None,
        ignore: frozenset[str],
        step: Step,
    ) -> Message:
        wait = self._timeout(step_timeout)
        summary = _summary(specs)
        message = await self._next_message(trio.current_time() + wait, ignore, summary, wait)
        got = frame_fields(message)
        rendered = [(s, None if s.template is None else self._render(s.template)) for s in specs]
        diff = match_fields(rendered, got)
        if diff is None:
            diff = self._implicit_checks(message, got, specs, check_seq)
        if diff is not None:
            raise _StepFailed(f"{diff} in {show(got)}")
        if isinstance(step, Expect):
            for name, tag in step.capture.items():
                value = message.get_str(tag, None)
                if value is None:
                    raise _StepFailed(f"capture {name}: tag {tag} is missing in {show(got)}")
                self.vars[name] = value
        self._track_seq(message)
        return message

    def _implicit_checks(
        self,
        message: Message,
        got: list[tuple[int, str]],
        specs: Sequence[FieldSpec],
        check_seq: bool | None,
    ) -> str | None:
        named = {s.tag for s in specs}
        implicit = [
            (Tag.BEGIN_STRING, self.script.begin_string),
            (Tag.SENDER_COMP_ID, self.theirs),
            (Tag.TARGET_COMP_ID, self.ours),
            (Tag.SENDING_TIME, "now"),
        ]
        for tag, value in implicit:
            if tag not in named:
                diff = match_fields([(FieldSpec(tag, Template(value, (value,))), value)], got)
                if diff is not None:
                    return diff
        check = self.script.check_seq if check_seq is None else check_seq
        in_seq = self.vars.get("in_seq")
        if check and Tag.MSG_SEQ_NUM not in named and not _poss_dup(message):
            seq = message.get(Tag.MSG_SEQ_NUM)
            expected = str(in_seq)
            if seq is None or seq.decode() != expected:
                shown = "nothing" if seq is None else repr(seq.decode())
                return f"34: expected {expected!r} (the next MsgSeqNum), got {shown}"
        return None

    def _track_seq(self, message: Message) -> None:
        """Advance `in_seq` past a received message (as a FIX counterparty would)."""
        seq = _as_int(message.get_str(Tag.MSG_SEQ_NUM, ""))
        if seq is None:
            return
        in_seq = _as_int(str(self.vars.get("in_seq", "")))
        nxt = seq + 1
        if message.msg_type == MsgType.SEQUENCE_RESET:
            nxt = _as_int(message.get_str(Tag.NEW_SEQ_NO, "")) or nxt
        if _poss_dup(message) and in_seq is not None:
            nxt = max(in_seq, nxt)
        self.vars["in_seq"] = nxt

    async def _expect_any_order(self, step: ExpectAnyOrder) -> None:
        wait = self._timeout(step.timeout)
        deadline = trio.current_time() + wait
        pending = list(step.messages)
        while pending:
            summary = " and ".join(_summary(specs) for specs in pending)
            message = await self._next_message(deadline, step.ignore, summary, wait)
            got = frame_fields(message)
            diffs = []
            for specs in pending:
                rendered = [(s, self._render_opt(s.template)) for s in specs]
                diff = match_fields(rendered, got) or self._implicit_checks(
                    message, got, specs, None
                )
                if diff is None:
                    pending.remove(specs)
                    break
                diffs.append(diff)
            else:
                raise _StepFailed(f"{'; '.join(diffs)} in {show(got)}")
            self._track_seq(message)

    async def _expect_disconnect(self, step: ExpectDisconnect) -> None:
        wait = self._timeout(step.timeout)
        deadline = trio.current_time() + wait
        while True:
            frame = await self._receive(deadline)
            if frame is None:
                raise _StepFailed(f"expected a disconnect, still connected after {wait:g} s")
            if frame == _CLOSED:
                await self._close()
                return
            if isinstance(frame, Message) and frame.msg_type in step.ignore:
                self._track_seq(frame)
                continue
            raise _StepFailed(f"expected a disconnect, got {_shown(frame)}")

    async def _expect_nothing(self, step: ExpectNothing) -> None:
        deadline = trio.current_time() + step.duration
        while True:
            frame = await self._receive(deadline)
            if frame is None:
                return
            if isinstance(frame, Message) and frame.msg_type in step.ignore:
                self._track_seq(frame)
                continue
            raise _StepFailed(f"expected nothing for {step.duration:g} s, got {_shown(frame)}")

    # -- variables and the simulator ----------------------------------------------------------
    def _int(self, name: str) -> int:
        value = _as_int(str(self.vars.get(name, "")))
        if value is None:
            raise _StepFailed(f"{name} is {self.vars.get(name)!r}, not a sequence number")
        return value

    def _set(self, step: SetVars) -> None:
        for name, template in step.values.items():
            value = self._render(template)
            if name in _SEQ_VARS:
                number = _as_int(value)
                if number is None or number < 1:
                    raise _StepFailed(f"set {name}: {value!r} is not a sequence number")
                self.vars[name] = number
            else:
                self.vars[name] = value

    async def _sim(self, step: Sim) -> None:
        control = self.options.sim
        if control is None:
            raise _StepFailed(
                "a sim step needs the simulator running in-process with the runner "
                "(see docs/conformance.md); skip this script against other engines"
            )
        try:
            await control(step.session, step.action, step.args)
        except Exception as exc:  # the simulator's error becomes this step's failure
            raise _StepFailed(f"sim {step.action}: {exc}") from None


def _next_out_seq(out_seq: int, given: Mapping[int, str | None]) -> int:
    """The next MsgSeqNum after sending `given` as message number `out_seq` (unless it says
    its own): one more; past an explicit MsgSeqNum (never backwards: a PossDup resend does not
    move it); or a SequenceReset's NewSeqNo when that does not lower it (a lowering one is
    rejected and consumes its number like any other message)."""
    nxt = out_seq + 1
    if Tag.MSG_SEQ_NUM in given:
        seq = _as_int(given[Tag.MSG_SEQ_NUM])
        nxt = out_seq if seq is None else max(out_seq, seq + 1)
    new_seq = _as_int(given.get(Tag.NEW_SEQ_NO))
    is_reset = given.get(Tag.MSG_TYPE) == MsgType.SEQUENCE_RESET
    if is_reset and new_seq is not None and new_seq >= out_seq:
        nxt = new_seq
    return nxt


def _merge_expect(base: list[FieldSpec], extra: Sequence[FieldSpec]) -> list[FieldSpec]:
    merged = list(base)
    for spec in extra:
        for i, existing in enumerate(merged):
            if existing.tag == spec.tag:
                merged[i] = spec
                break
        else:
            merged.append(spec)
    return merged


def _summary(specs: Sequence[FieldSpec]) -> str:
    """An expectation as ``35=A|108=30``, for failures."""
    parts = []
    for spec in specs:
        if spec.template is not None:
            parts.append(f"{spec.tag}={spec.template.text}")
        elif spec.pattern is not None:
            parts.append(f"{spec.tag}=re:{spec.pattern.pattern}")
        elif spec.any_value:
            parts.append(f"{spec.tag}=*")
        else:
            parts.append(f"no {spec.tag}")
    return "|".join(parts) or "a message"


def _shown(frame: Message | GarbledFrame | str) -> str:
    if isinstance(frame, Message):
        return show(frame_fields(frame))
    if isinstance(frame, GarbledFrame):
        return f"a garbled frame ({frame.reason})"
    return "a disconnect"


def _poss_dup(message: Message) -> bool:
    return message.get(Tag.POSS_DUP_FLAG) == b"Y"


def _as_int(value: str | None) -> int | None:
    if value is None or not value.isdigit():
        return None
    return int(value)
