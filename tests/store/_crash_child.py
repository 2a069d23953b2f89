"""Child process for ``test_crash``: writes batches through `LmdbStore` until it is killed.

Usage: ``python _crash_child.py STORE_DIR LIMIT``. Each batch is one `write` covering both
sessions; after it returns, the highest sequence number written is printed and flushed, which
is the acknowledgement the parent checks against after a SIGKILL. Run as a script, not imported
by pytest as a test.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from trifix.store import LmdbStore, SessionUpdate

SESSIONS = ("CRASH-A", "CRASH-B")
CREATED = datetime(2024, 1, 1, tzinfo=UTC)


def child_env() -> dict[str, str]:
    """The environment for a child interpreter that must import trifix from this checkout."""
    root = str(Path(__file__).resolve().parents[2])
    paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def payload(session_id: str, seq: int) -> bytes:
    """The bytes stored for ``seq``: deterministic, and of varying length."""
    return f"{session_id}|{seq}|".encode() + bytes([seq % 251]) * (seq * 37 % 300)


def batch_size(first_seq: int) -> int:
    """How many messages the batch starting at ``first_seq`` holds (1..13)."""
    return 1 + first_seq * 7 % 13


def main(path: str, limit: int) -> None:
    with LmdbStore(path) as store:
        tops = {store.open_session(sid, CREATED).next_sender_seq for sid in SESSIONS}
        assert len(tops) == 1, f"sessions disagree: {tops}"
        next_seq = tops.pop()
        print("start", next_seq, flush=True)
        while next_seq < limit:
            top = next_seq + batch_size(next_seq) - 1
            seqs = range(next_seq, top + 1)
            store.write(
                [
                    SessionUpdate(
                        sid,
                        [(seq, payload(sid, seq)) for seq in seqs],
                        next_sender_seq=top + 1,
                        next_target_seq=top + 1,
                    )
                    for sid in SESSIONS
                ]
            )
            print(top, flush=True)
            next_seq = top + 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
