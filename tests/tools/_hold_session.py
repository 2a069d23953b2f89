"""Child process for ``test_store``: a stand-in gateway that holds a session of a store open.

Usage: ``python _hold_session.py STORE_DIR SESSION``. Opens the session (taking its lock),
prints "ready", and keeps it until standard input closes. Run as a script, not by pytest.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from trifix.store import LmdbStore

if __name__ == "__main__":
    with LmdbStore(sys.argv[1]) as store:
        store.open_session(sys.argv[2], datetime.now(UTC))
        print("ready", flush=True)
        sys.stdin.read()
