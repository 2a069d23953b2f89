"""Kill a writing process at random points; what it acknowledged must survive, whole."""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
from pathlib import Path

from trifix.store import LmdbStore

from ._crash_child import CREATED, SESSIONS, batch_size, child_env, payload

CHILD = Path(__file__).with_name("_crash_child.py")
ROUNDS = 25
LIMIT = 1_000_000  # the child stops there if nobody kills it


def run_and_kill(path: Path, rng: random.Random) -> tuple[int, int]:
    """Start a writer, kill it at a random point; return (first seq it wrote, highest ack)."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), str(LIMIT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    try:
        assert proc.stdout is not None
        first_line = proc.stdout.readline().split()
        if not first_line or first_line[0] != b"start":
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"the writer did not start: {err.decode()}")
        start = int(first_line[1])
        acked = start - 1
        for _ in range(rng.randrange(0, 30)):
            line = proc.stdout.readline()
            if not line:
                break
            acked = int(line)
        # A random, bounded extra delay, to land anywhere inside a write.
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=rng.uniform(0, 0.01))
        proc.send_signal(signal.SIGKILL)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the writer was not killed: {err.decode()}"
    for line in rest.split():  # acknowledgements still in the pipe when it died
        acked = int(line)
    return start, acked


def check_store(path: Path, acked: int) -> int:
    """Check the store after a crash; return the highest stored sequence number."""
    with LmdbStore(path) as store:
        tops = set()
        for sid in SESSIONS:
            stored = store.open_session(sid, CREATED)
            top = stored.next_sender_seq - 1
            assert stored.next_target_seq == top + 1
            expected = 1
            for seq, raw in store.get_range(sid, 1, 0):
                assert seq == expected, f"{sid}: seq {expected} is missing"
                assert raw == payload(sid, seq), f"{sid}: seq {seq} has the wrong bytes"
                expected += 1
            assert expected - 1 == top, f"{sid}: messages end at {expected - 1}, seqs say {top}"
            tops.add(top)
    assert len(tops) == 1, f"one write reached one session and not the other: {tops}"
    top = tops.pop()
    # Nothing acknowledged is lost, and at most the one unacknowledged batch is there.
    assert top in (acked, acked + batch_size(acked + 1)), (top, acked)
    return top


def test_sigkill_during_writes_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(4404)
    path = tmp_path / "store"
    top = 0
    for _ in range(ROUNDS):
        start, acked = run_and_kill(path, rng)
        assert start == top + 1  # the writer continued exactly where the last one stopped
        top = check_store(path, acked)
    assert top > ROUNDS  # the writers made progress
