"""Message stores: sequence numbers and sent messages, behind one protocol.

`MessageStore` is the contract; `LmdbStore` is the persistent default and `MemoryStore` the
in-memory one for tests. See ``docs/store.md``.
"""

from trifix.core.errors import StoreError, StoreLockedError
from trifix.store.base import MessageStore, SessionUpdate, StoredSequences
from trifix.store.lmdb_store import LmdbStore, SyncPolicy
from trifix.store.memory import MemoryStore

__all__ = [
    "LmdbStore",
    "MemoryStore",
    "MessageStore",
    "SessionUpdate",
    "StoreError",
    "StoreLockedError",
    "StoredSequences",
    "SyncPolicy",
]
