"""Crash recovery: a gateway killed with SIGKILL mid-stream resumes from its LMDB store.

The LP is an acceptor engine in this process; it records every NewOrderSingle it hands to its
application, with its MsgSeqNum, ClOrdID and PossDup flag. The gateway is a child process
(`_crash_gateway.py`) on a durable LMDB store, sending orders in small batches and printing
``SENT <clordid> <seq>`` once a batch is stored and written. The test kills it with SIGKILL at
random moments (before or during the Logon, or while orders stream), or has it SIGKILL itself
at exact points (right after a store commit of orders, before their bytes are written; in the
middle of a socket write), starts it again on the same store, and at the end lets a last run
log out cleanly. Then:

* the gateway never reset: no Logon with 141=Y, no SequenceReset in reset mode, and every
  Logon's MsgSeqNum is above every order the LP had received before it;
* the orders the LP received have strictly increasing MsgSeqNums, and each is PossDup exactly
  when it was resent from the store (below the Logon of the connection it came on);
* every order reported SENT reached the LP application exactly once, with the sequence number
  it was sent with; orders sent but not yet reported when the gateway died arrived once or not
  at all; no ClOrdID ever reached the application twice.
"""

from __future__ import annotations

import collections
import random
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import trio

from tests.runtime.conftest import eventually, lp_spec
from trifix.core.events import (
    AdminMessageReceived,
    AppMessageReceived,
    DuplicateIgnored,
    GapDetected,
    LoggedOn,
    SequenceResetReceived,
    SequencesReset,
)
from trifix.core.tags import MsgType, Tag
from trifix.runtime import SessionHandle, open_engine

SEED = 1125
KILL_ROUNDS = 15
FINAL_ORDERS = 40
GATEWAY = Path(__file__).with_name("_crash_gateway.py")


@dataclass(frozen=True)
class Delivery:
    """An order the LP application received."""

    seq: int
    clordid: str
    poss_dup: bool
    logon_seq: int
    """MsgSeqNum of the Logon of the connection it arrived on."""


@dataclass
class LpRecord:
    """What the LP saw, from its session's event stream."""

    deliveries: list[Delivery] = field(default_factory=list)
    logon_seqs: list[int] = field(default_factory=list)
    resent_before_logon: list[tuple[int, int]] = field(default_factory=list)
    """(Logon seq, highest order seq delivered before it) for each Logon."""
    resets: list[str] = field(default_factory=list)
    gaps: int = 0
    gap_fills: int = 0
    duplicates_ignored: int = 0

    async def follow(self, handle: SessionHandle) -> None:
        logon_seq = 0
        async for event in handle.events():
            if isinstance(event, AppMessageReceived):
                msg = event.message
                if msg.msg_type == MsgType.NEW_ORDER_SINGLE:
                    clordid = msg.get_str(Tag.CL_ORD_ID)
                    self.deliveries.append(
                        Delivery(msg.seq_num, clordid, event.poss_dup, logon_seq)
                    )
            elif isinstance(event, AdminMessageReceived) and event.message.msg_type == "A":
                logon_seq = event.message.seq_num
                highest = self.deliveries[-1].seq if self.deliveries else 0
                self.logon_seqs.append(logon_seq)
                self.resent_before_logon.append((logon_seq, highest))
                if event.message.get(Tag.RESET_SEQ_NUM_FLAG) == b"Y":
                    self.resets.append(f"Logon {logon_seq} with ResetSeqNumFlag=Y")
            elif isinstance(event, LoggedOn) and event.reset:
                self.resets.append("LoggedOn with reset")
            elif isinstance(event, SequencesReset):
                self.resets.append(f"sequences reset: {event.reason}")
            elif isinstance(event, SequenceResetReceived):
                if event.gap_fill:
                    self.gap_fills += 1
                else:
                    self.resets.append(f"SequenceReset-Reset to {event.new_seq}")
            elif isinstance(event, GapDetected):
                self.gaps += 1
            elif isinstance(event, DuplicateIgnored):
                self.duplicates_ignored += 1


class Gateway:
    """One run of the gateway child process, with its output parsed as it comes."""

    def __init__(self, process: trio.Process, log: Path) -> None:
        self.process = process
        self.log = log
        self.sent: dict[str, int] = {}
        self.up = trio.Event()
        self.done = trio.Event()
        self.bye: tuple[int, int] | None = None
        self.output_ended = trio.Event()

    @classmethod
    async def start(
        cls,
        nursery: trio.Nursery,
        port: int,
        store: Path,
        run: int,
        final: int | None = None,
        options: Sequence[str] = (),
    ) -> Gateway:
        log = store.parent / f"gateway-{run}.log"
        command = [sys.executable, str(GATEWAY), "--port", str(port)]
        command += ["--store", str(store), "--run", str(run), *options]
        if final is not None:
            command += ["--final", str(final)]
        with log.open("wb") as stderr:
            process = await trio.lowlevel.open_process(
                command,
                stdin=subprocess.PIPE if final is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        gateway = cls(process, log)
        nursery.start_soon(gateway._read)
        return gateway

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        pending = b""
        while chunk := await stdout.receive_some():
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for line in lines:
                self._line(line.decode())
        self.output_ended.set()

    def _line(self, line: str) -> None:
        word, *rest = line.split()
        if word == "SENT":
            self.sent[rest[0]] = int(rest[1])
        elif word == "UP":
            self.up.set()
        elif word == "DONE":
            self.done.set()
        elif word == "BYE":
            self.bye = (int(rest[0]), int(rest[1]))

    async def kill(self) -> None:
        """SIGKILL, then wait for the process and the last of its output."""
        self.process.send_signal(signal.SIGKILL)
        await self.finished()

    async def finished(self) -> int:
        returncode = await self.process.wait()
        await self.output_ended.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                await pipe.aclose()
        return returncode

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


async def test_gateway_killed_at_random_points_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    store = tmp_path / "gateway-store"
    record = LpRecord()
    sent: dict[str, int] = {}
    killed_before_up = 0
    # Where the gateway dies, each used in turn: at a random moment from its start, at a random
    # moment while orders stream, right after a store commit of orders (stored but never
    # written), or in the middle of a socket write (half a frame on the wire).
    kill_points = ["anytime", "streaming", "--die-after-commit", "streaming", "--die-mid-write"]
    modes: dict[int, str] = {}
    gateways: list[Gateway] = []
    try:
        async with open_engine(lp_spec()) as lp, trio.open_nursery() as nursery:
            port = lp.listen_port
            assert port
            lp_session = lp.session("GW")
            nursery.start_soon(record.follow, lp_session)

            def stuck(what: str) -> AssertionError:
                """A wait timed out: say what the LP and the last gateway know."""
                acceptor = lp.acceptor
                refused = acceptor.refused[-3:] if acceptor else []
                return AssertionError(
                    f"{what}; LP: {lp_session.statistics()}, refused: {refused}; "
                    f"last gateway's stderr:\n{gateways[-1].stderr()}"
                )

            for run in range(KILL_ROUNDS):
                how = kill_points[run % len(kill_points)]
                options = []
                if how in ("--die-after-commit", "--die-mid-write"):
                    options = [how, str(rng.randint(1, 40))]
                gateway = await Gateway.start(nursery, port, store, run, options=options)
                gateways.append(gateway)
                modes[run] = " ".join([how, *options[1:]])
                if how == "anytime":  # starting up, connecting, logging on, streaming...
                    await trio.sleep(rng.uniform(0.05, 0.5))
                    await gateway.kill()
                elif how == "streaming":
                    with trio.move_on_after(15):
                        await gateway.up.wait()
                    if not gateway.up.is_set():
                        raise stuck(f"run {run} did not log on")
                    await trio.sleep(rng.uniform(0, 0.25))
                    await gateway.kill()
                else:  # the gateway kills itself at the chosen point
                    returncode = None
                    with trio.move_on_after(15):
                        returncode = await gateway.finished()
                    if returncode is None:
                        raise stuck(f"run {run} ({modes[run]}) did not get to its kill point")
                    assert returncode == -signal.SIGKILL, gateway.stderr()
                killed_before_up += not gateway.up.is_set()
                overlap = sent.keys() & gateway.sent.keys()
                assert not overlap, f"ClOrdIDs reused across runs: {sorted(overlap)[:5]}"
                sent.update(gateway.sent)
                # The LP notices the dead socket before the next run connects (otherwise the
                # new Logon would be refused as a second connection, and retried).
                await trio.sleep(0.02)
                await eventually(lambda: lp_session.connection is None)

            final = await Gateway.start(nursery, port, store, KILL_ROUNDS, final=FINAL_ORDERS)
            gateways.append(final)
            with trio.move_on_after(20):
                await final.done.wait()
            if not final.done.is_set():
                raise stuck("the final run did not send its orders")
            sent.update(final.sent)

            def caught_up() -> bool:
                received = {d.clordid for d in record.deliveries}
                return sent.keys() <= received and not lp_session.core.awaiting_resend

            try:
                await eventually(caught_up, within=15)
            except trio.TooSlowError:
                missing = sorted(sent.keys() - {d.clordid for d in record.deliveries})
                raise stuck(
                    f"{len(missing)} SENT orders never reached the LP: {missing[:10]}"
                ) from None
            assert final.process.stdin is not None
            await final.process.stdin.send_all(b"logout\n")
            with trio.fail_after(15):
                returncode = await final.finished()
            assert returncode == 0, final.stderr()
            await eventually(lambda: lp_session.connection is None)
            nursery.cancel_scope.cancel()
    finally:
        for gateway in gateways:  # never leave a gateway behind, whatever failed
            if gateway.process.returncode is None:
                gateway.process.kill()

    # No reset, ever: sequence numbers continue across every restart.
    assert record.resets == []
    for logon_seq, highest_before in record.resent_before_logon:
        assert logon_seq > highest_before, (logon_seq, highest_before)
    assert final.bye is not None
    gw_next_out, gw_next_in = final.bye
    assert lp_session.core.next_target_seq == gw_next_out
    assert lp_session.core.next_sender_seq == gw_next_in

    # Delivered in sequence; PossDup exactly for what was resent from the store.
    seqs = [d.seq for d in record.deliveries]
    assert seqs == sorted(set(seqs)), "MsgSeqNums delivered out of order or twice"
    for d in record.deliveries:
        assert d.poss_dup == (d.seq < d.logon_seq), d
    # New orders on one connection come from the process that logged on: one run each.
    runs_per_logon: dict[int, set[str]] = collections.defaultdict(set)
    for d in record.deliveries:
        if not d.poss_dup:
            runs_per_logon[d.logon_seq].add(d.clordid.split("-")[0])
    assert all(len(runs) == 1 for runs in runs_per_logon.values()), runs_per_logon

    # Nothing lost, nothing twice.
    counts = collections.Counter(d.clordid for d in record.deliveries)
    twice = {c: n for c, n in counts.items() if n > 1}
    assert not twice, f"delivered more than once: {twice}"
    delivered_seq = {d.clordid: d.seq for d in record.deliveries}
    lost = sorted(sent.keys() - delivered_seq.keys())
    assert not lost, f"{len(lost)} orders reported SENT never reached the LP: {lost[:10]}"
    wrong_seq = {c: (s, delivered_seq[c]) for c, s in sent.items() if delivered_seq[c] != s}
    assert not wrong_seq, f"delivered under another MsgSeqNum: {wrong_seq}"
    unreported = delivered_seq.keys() - sent.keys()
    assert all(not c.startswith(f"{KILL_ROUNDS}-") for c in unreported), unreported
    assert len(sent) > KILL_ROUNDS * 5  # the gateway did get to stream orders
    # A run that died right after a commit left stored, unwritten orders: the next Logon's gap
    # made the LP ask for them, and they came from the store with PossDup.
    for run, how in modes.items():
        if how.startswith("--die-after-commit"):
            of_run = [d for d in record.deliveries if d.clordid.startswith(f"{run}-")]
            assert any(d.poss_dup for d in of_run), (run, how, of_run[-3:])

    resent = sum(d.poss_dup for d in record.deliveries)
    print(
        f"{KILL_ROUNDS} kills ({killed_before_up} before logon), {len(sent)} orders reported "
        f"sent, {len(record.deliveries)} delivered ({resent} resent with PossDup, "
        f"{len(unreported)} not reported before the kill), {record.gaps} gaps, "
        f"{record.gap_fills} gap fills, {record.duplicates_ignored} duplicates ignored"
    )
