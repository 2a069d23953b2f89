"""Shared fixtures of the tools tests: a store written the way the gateway writes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trifix.core.message import Message
from trifix.core.tags import MsgType, Tag
from trifix.store import LmdbStore, SessionUpdate

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def order(seq: int, sent: datetime) -> bytes:
    """A stored NewOrderSingle with an account and a text to redact."""
    return Message.new(
        MsgType.NEW_ORDER_SINGLE,
        (Tag.MSG_SEQ_NUM, seq),
        (Tag.SENDER_COMP_ID, "GW"),
        (Tag.TARGET_COMP_ID, "LP1"),
        (Tag.SENDING_TIME, sent),
        (Tag.CL_ORD_ID, f"ORD-{seq}"),
        (Tag.ACCOUNT, "ACC-7453"),
        (Tag.SYMBOL, "EURUSD"),
        (Tag.SIDE, "1"),
        (Tag.TRANSACT_TIME, sent),
        (Tag.ORDER_QTY, 1000),
        (Tag.ORD_TYPE, "1"),
        (Tag.TEXT, "note\nforged line"),
    ).encode()


def logon(seq: int, sent: datetime) -> bytes:
    return Message.new(
        MsgType.LOGON,
        (Tag.MSG_SEQ_NUM, seq),
        (Tag.SENDER_COMP_ID, "GW"),
        (Tag.TARGET_COMP_ID, "LP1"),
        (Tag.SENDING_TIME, sent),
        (Tag.ENCRYPT_METHOD, 0),
        (Tag.HEART_BT_INT, 30),
        (Tag.PASSWORD, "hunter2"),
    ).encode()


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """A store with LP1 (a logon, orders 2..10 sent a day apart, seqs 11/7) and LP2 (empty)."""
    path = tmp_path / "fixstore"
    with LmdbStore(path) as store:
        for sid in ("LP1", "LP2"):
            store.open_session(sid, T0)
        messages = [(1, logon(1, T0))]
        messages += [(seq, order(seq, T0 + timedelta(days=seq))) for seq in range(2, 11)]
        store.write([SessionUpdate("LP1", messages, next_sender_seq=11, next_target_seq=7)])
    return path
