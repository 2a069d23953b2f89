"""The runner against real engines: the session scenarios pass against the echo simulator and a
trifix initiator, and scripts fail, with the first difference, against a misbehaving peer.

Everything runs over memory streams on trio's MockClock (heartbeat and logon timeouts are
instant), except one test over loopback TCP per connector kind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
import trio.testing

from conformance.connectors import TcpTarget, open_tcp_listener
from conformance.fields import build_frame
from conformance.report import result_line
from conformance.runner import RunOptions, ScriptResult, run_script, run_scripts
from conformance.script import Script, load_script, load_scripts
from conformance.simcontrol import simulator_control
from simulator import AppMode, SimSessionSpec, Simulator, SimulatorSpec, open_simulator
from trifix.core.codec import Framer
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.runtime import EngineSpec, SessionSpec, open_engine

from .harness import in_process, wall_clock

SCENARIOS = Path(__file__).parents[2] / "scenarios" / "session"


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


def script(text: str, name: str = "t.yaml") -> Script:
    return load_script(Path(name), text)


class SimConnector:
    """The echo simulator's session GW, over a fresh memory stream pair per connect."""

    engine_role = Role.ACCEPTOR

    def __init__(self, sim: Simulator, nursery: trio.Nursery) -> None:
        self.sim = sim
        self.nursery = nursery
        self.done = trio.Event()
        self.done.set()

    async def open(self) -> trio.abc.Stream:
        await self.done.wait()  # the previous script's connection is still closing
        self.done = done = trio.Event()
        ours, theirs = trio.testing.memory_stream_pair()

        async def serve() -> None:
            try:
                await self.sim.run_connection("GW", theirs)
            finally:
                done.set()

        self.nursery.start_soon(serve)
        return ours


def echo_spec(port: int | None = None) -> SimulatorSpec:
    settings = SessionSettings("LP", "GW", Role.ACCEPTOR, reset_on_logon=True)
    return SimulatorSpec(
        [SimSessionSpec(SessionSpec("GW", settings), AppMode.ECHO)], listen_port=port
    )


@asynccontextmanager
async def echo_simulator() -> AsyncIterator[tuple[SimConnector, RunOptions, Simulator]]:
    clock = wall_clock()
    async with open_simulator(echo_spec(), clock=clock) as sim, trio.open_nursery() as nursery:
        options = RunOptions(clock=clock, sim=simulator_control(sim))
        yield SimConnector(sim, nursery), options, sim
        nursery.cancel_scope.cancel()


def assert_all_passed(results: list[ScriptResult]) -> None:
    failed = [
        result_line(r) + "\n" + "\n".join(r.transcript) for r in results if r.status == "failed"
    ]
    assert failed == []


# -- the scenarios pass against well-behaved engines --------------------------------------------


async def test_session_scenarios_pass_against_the_echo_simulator(
    autojump_clock: trio.testing.MockClock,
) -> None:
    scripts, errors = load_scripts([SCENARIOS])
    assert errors == []
    with trio.fail_after(600):  # mock seconds
        async with echo_simulator() as (connector, options, _):
            results = await run_scripts(scripts, connector, options)
    assert_all_passed(results)
    passed = {r.script.name for r in results if r.status == "passed"}
    skipped = {r.script.name for r in results if r.status == "skipped"}
    assert {s.name for s in scripts if Role.ACCEPTOR in s.roles} == passed
    assert all(n.startswith("1S") for n in skipped)


async def test_session_scenarios_pass_against_a_trifix_initiator(
    autojump_clock: trio.testing.MockClock,
) -> None:
    scripts, _ = load_scripts([SCENARIOS])
    with trio.fail_after(600):
        async with in_process(Role.INITIATOR) as (connector, clock):
            results = await run_scripts(scripts, connector, RunOptions(clock=clock))
    assert_all_passed(results)
    passed = [r for r in results if r.status == "passed"]
    assert len(passed) == sum(Role.INITIATOR in s.roles for s in scripts) >= 35


async def test_sim_steps_call_the_simulator_and_fail_on_bad_actions(
    autojump_clock: trio.testing.MockClock,
) -> None:
    text = """\
case: "sim"
steps:
  - connect
  - logon
  - sim: {session: GW, action: drop_heartbeats, args: {'on': true}}
  - send: "35=1|112=dropped"
  - expect_nothing: 2
  - sim: {action: drop_heartbeats, args: {'on': false}}
  - note: the dropped Heartbeat used up the simulator's 2
    set: {in_seq: 3}
  - send: "35=1|112=back"
  - expect: "35=0|112=back"
  - sim: {action: explode}
"""
    async with echo_simulator() as (connector, options, _):
        result = await run_script(script(text), connector, options)
        skipped = await run_script(script(text), connector, RunOptions())
    assert result.status == "failed"
    assert result.step is not None
    assert result.step.index == 10
    assert result.reason.startswith("sim explode: unknown simulator action 'explode'")
    assert skipped.status == "skipped"
    assert "sim steps" in skipped.reason


# -- and fail against misbehaving ones ------------------------------------------------------------


async def test_a_script_fails_when_the_engine_skips_a_heartbeat(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The simulator drops its Heartbeats: the TestRequest goes unanswered, 4.b/5 fails."""
    scripts, _ = load_scripts([SCENARIOS / "4-b-5-test-request-answered.yaml"])
    async with echo_simulator() as (connector, options, sim):
        sim.session("GW").drop_heartbeats(True)
        [result] = await run_scripts(scripts, connector, options)
    assert result_line(result) == (
        "FAIL 4-b-5-test-request-answered: step 4 (expect, line 8): "
        "expected 35=0|112=PING-4b, got nothing within 2 s"
    )


Answer = Callable[[Message, int], list[list[tuple[int, str | None]]]]


def broken_answers(msg: Message, seq: int) -> list[list[tuple[int, str | None]]]:
    """A peer that logs on properly but answers a TestRequest without its TestReqID and a
    ResendRequest with a gap fill one short."""
    if msg.msg_type == MsgType.LOGON:
        return [[(35, "A"), (98, "0"), (108, msg.get_str(Tag.HEART_BT_INT)), (141, "Y")]]
    if msg.msg_type == MsgType.TEST_REQUEST:
        return [[(35, "0")]]
    if msg.msg_type == MsgType.RESEND_REQUEST:
        return [
            [
                (35, "4"),
                (34, "1"),
                (43, "Y"),
                (122, "20261125-09:00:00.000"),
                (123, "Y"),
                (36, str(seq - 1)),
            ]
        ]
    return []


async def serve_broken_peer(stream: trio.abc.Stream, answer: Answer = broken_answers) -> None:
    framer = Framer()
    seq = 1
    async with stream:
        while data := await stream.receive_some():
            for msg in framer.feed(data):
                assert isinstance(msg, Message)
                for fields in answer(msg, seq):
                    header = {49: "LP", 56: "GW", 34: str(seq), 52: "20261125-09:00:00.000"}
                    await stream.send_all(
                        build_frame(fields, begin_string="FIX.4.4", header=header)
                    )
                    seq += 0 if 34 in dict(fields) else 1


class PeerConnector:
    engine_role = Role.ACCEPTOR

    def __init__(self, nursery: trio.Nursery, answer: Answer = broken_answers) -> None:
        self.nursery = nursery
        self.answer = answer

    async def open(self) -> trio.abc.Stream:
        ours, theirs = trio.testing.memory_stream_pair()
        self.nursery.start_soon(serve_broken_peer, theirs, self.answer)
        return ours


async def run_against_broken_peer(names: list[str]) -> list[ScriptResult]:
    scripts, _ = load_scripts([SCENARIOS / name for name in names])
    clock = wall_clock()
    async with trio.open_nursery() as nursery:
        results = await run_scripts(scripts, PeerConnector(nursery), RunOptions(clock=clock))
        nursery.cancel_scope.cancel()
    return results


async def test_scripts_fail_with_the_first_difference_against_a_broken_peer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    results = await run_against_broken_peer(
        [
            "1B-a-valid-logon.yaml",
            "8-resend-request-admin-gap-filled.yaml",
            "3-heartbeat-received.yaml",
        ]
    )
    lines = [result_line(r) for r in results]
    assert lines[0].startswith(
        "FAIL 1B-a-valid-logon: step 5 (expect, line 11): 112: missing, expected '1B-a' in "
        "8=FIX.4.4|9=47|35=0|49=LP|56=GW|34=2|52=20261125-09:00:00.000|10="
    )
    # A failing script never stops the others: the gap fill one short is caught too.
    assert lines[1].startswith(
        "FAIL 8-resend-request-admin-gap-filled: step 4 (expect, line 8): 112: missing"
    )
    assert lines[2].startswith("FAIL 3-heartbeat-received: step 6 (expect, line 10): 112: missing")
    assert [r.status for r in results] == ["failed"] * 3


async def test_a_wrong_gap_fill_is_reported_as_expected_vs_got(
    autojump_clock: trio.testing.MockClock,
) -> None:
    text = """\
case: "8"
steps:
  - connect
  - logon
  - send: "35=2|7=1|16=0"
  - expect: "35=4|34=1|43=Y|123=Y|36=2"
"""
    clock = wall_clock()
    async with trio.open_nursery() as nursery:
        result = await run_script(script(text), PeerConnector(nursery), RunOptions(clock=clock))
        nursery.cancel_scope.cancel()
    assert result.reason.startswith("36: expected '2', got '1' in 8=FIX.4.4|")
    assert result.transcript[0] == "x connected"
    assert result.transcript[1].startswith("> 8=FIX.4.4|9=")


async def test_a_silent_peer_fails_by_step_timeout_and_a_hung_script_by_its_cap(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def silent(msg: Message, seq: int) -> list[list[tuple[int, str | None]]]:
        return []

    texts = [
        'case: "x"\nsteps:\n  - connect\n  - logon: {timeout: 3}\n',
        'case: "x"\ntimeout: 7\nsteps:\n  - connect\n  - wait: 100\n',
        'case: "x"\nsteps:\n  - expect: "35=0"\n',
        'case: "x"\nsteps:\n  - connect\n  - expect_disconnect: 1\n',
    ]
    clock = wall_clock()
    async with trio.open_nursery() as nursery:
        connector = PeerConnector(nursery, silent)
        results = [await run_script(script(t), connector, RunOptions(clock=clock)) for t in texts]
        nursery.cancel_scope.cancel()
    assert [r.reason for r in results] == [
        "expected 35=A|108={heartbeat}|141=Y, got nothing within 3 s",
        "the script ran over its 7 s cap",
        "not connected: add a 'connect' step before this one",
        "expected a disconnect, still connected after 1 s",
    ]


async def test_runner_state_checks(autojump_clock: trio.testing.MockClock) -> None:
    """CompIDs, sequence numbers and disconnects are checked even when a step does not say."""

    def wrong(msg: Message, seq: int) -> list[list[tuple[int, str | None]]]:
        if msg.get(Tag.TEST_REQ_ID) == b"seq":
            return [[(35, "0"), (34, "9"), (112, "seq")]]
        if msg.get(Tag.TEST_REQ_ID) == b"comp":
            return [[(35, "0"), (49, "XX"), (112, "comp")]]
        if msg.get(Tag.TEST_REQ_ID) == b"dup":
            return [[(35, "0"), (34, "1"), (43, "Y"), (112, "dup")], [(35, "0"), (112, "after")]]
        return broken_answers(msg, seq)

    texts = {
        "seq": "34: expected '2' (the next MsgSeqNum), got '9'",
        "comp": "49: expected 'LP', got 'XX'",
        "dup": "",  # a PossDupFlag=Y resend is not held to the next MsgSeqNum
        "bye": "not connected: add a 'connect' step before this one",
    }
    clock = wall_clock()
    async with trio.open_nursery() as nursery:
        connector = PeerConnector(nursery, wrong)
        for req, reason in texts.items():
            steps = [f'  - send: "35=1|112={req}"']
            if req == "dup":
                steps += ['  - expect: "35=0|112=dup"', '  - expect: "35=0|34=2|112=after"']
            elif req == "bye":
                steps = ["  - disconnect"]
            else:
                steps += [f'  - expect: "35=0|112={req}"']
            text = 'case: "x"\nsteps:\n  - connect\n  - logon\n' + "\n".join(steps)
            text += "\n  - expect_nothing: 1\n"
            result = await run_script(script(text), connector, RunOptions(clock=clock))
            if reason:
                assert reason in result.reason, (req, result.reason)
            else:
                assert result.status == "passed", result.reason
        nursery.cancel_scope.cancel()


# -- over TCP -------------------------------------------------------------------------------------


async def test_over_tcp_against_the_simulator_and_an_initiator() -> None:
    """One real loopback connection each way: the runner dials the simulator, and a trifix
    initiator dials the runner."""
    scripts, _ = load_scripts([SCENARIOS / "2-a-seq-as-expected.yaml"])
    with trio.fail_after(15):
        async with open_simulator(echo_spec(0)) as sim:
            assert sim.port is not None
            [result] = await run_scripts(scripts, TcpTarget("127.0.0.1", sim.port))
        assert result.status == "passed", result.reason
        async with open_tcp_listener(0) as listener:
            port = listener.port
            settings = SessionSettings("GW", "LP", Role.INITIATOR, reset_on_logon=True)
            spec = EngineSpec([SessionSpec("LP", settings, hosts=[("127.0.0.1", listener.port)])])
            async with open_engine(spec):
                [result] = await run_scripts(scripts, listener)
        assert result.status == "passed", result.reason
        [refused] = await run_scripts(scripts, TcpTarget("127.0.0.1", port))
    assert refused.reason.startswith("cannot connect")
