"""``trifix replay LOG --through simulator``: send one side of a log to the simulated LP.

The messages the client side sent (by default the sender of the log's first message) are
written, byte for byte as recorded, to the bundled LP simulator (`simulator.run_mini_lp`) over an
in-memory stream, and everything the simulator answers is read back and shown. The simulator's
session starts where the log starts (it expects the client's first sequence number) and does
not check SendingTime against its clock, since a recorded message is as old as the incident.
Symbols the simulator does not quote are added, priced around the first Price (44) the log
gives for them (1.0000 otherwise), so orders on them are answered rather than rejected.

Pacing: by default each message is sent once the simulator has answered the previous one
(every task idle); ``speed`` > 0 also waits the log's own gaps divided by ``speed``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import trio
import trio.testing

from trifix.core.codec import Framer, GarbledFrame
from trifix.core.message import Message
from trifix.core.settings import Role, SessionSettings
from trifix.core.tags import MsgType, Tag
from trifix.core.validate import Validator
from trifix.runtime import EngineSpec, SessionSpec, open_engine
from trifix.store import MemoryStore
from trifix.tools.decode import Decoded
from trifix.tools.replay_log import Entry

if TYPE_CHECKING:
    from simulator import Instrument

__all__ = ["ReplayError", "SimulatorReplay", "simulate"]

SESSION_ID: Final = "replay"
_SETTLE: Final = 0.01  # seconds every task must stay idle before the simulator counts as done
_SPREAD_TICKS: Final = 5


class ReplayError(Exception):
    """The log cannot be replayed through the simulator (the message says why)."""


@dataclass(slots=True)
class SimulatorReplay:
    """What a simulator replay did.

    Attributes:
        client, lp: the CompIDs of the side replayed and of the side the simulator plays.
        sent: messages sent to the simulator.
        received: messages the simulator answered with.
        rejected: of those, session Rejects and BusinessMessageRejects.
        skipped: the log's messages from the LP side (the simulator answers instead).
    """

    client: str
    lp: str
    sent: int = 0
    received: int = 0
    rejected: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (
            f"{self.sent} messages sent to the simulator as {self.client}, {self.received} "
            f"answers from {self.lp} (rejects: {self.rejected}); {self.skipped} messages of "
            f"{self.lp} in the log not replayed"
        )


def _client_messages(entries: Sequence[Entry], client: str | None) -> tuple[str, str, list[Entry]]:
    firsts = [e for e in entries if e.decoded.message is not None]
    if not firsts:
        raise ReplayError("the log holds no readable message")
    first = firsts[0].decoded.message
    assert first is not None
    if client is None:
        client = first.get_str(Tag.SENDER_COMP_ID, "")
    mine = [e for e in firsts if _sender(e) == client]
    if not mine:
        raise ReplayError(f"no message in the log was sent by {client!r}")
    opening = mine[0].decoded.message
    assert opening is not None
    if opening.msg_type != MsgType.LOGON:
        raise ReplayError(
            f"{client}'s first message in the log is not a Logon (it is a "
            f"{opening.msg_type!r}): the simulator needs the logon; use --through decoder"
        )
    return client, opening.get_str(Tag.TARGET_COMP_ID, ""), mine


def _sender(e: Entry) -> str:
    msg = e.decoded.message
    return "" if msg is None else msg.get_str(Tag.SENDER_COMP_ID, "")


def _instruments(entries: Sequence[Entry]) -> list[Instrument]:
    """The simulator's default instruments plus the log's other symbols."""
    from simulator import DEFAULT_INSTRUMENTS, Instrument  # the LP simulator: a client of trifix

    known = {i.symbol for i in DEFAULT_INSTRUMENTS}
    extra: dict[str, Instrument] = {}
    for e in entries:
        msg = e.decoded.message
        assert msg is not None
        symbol = msg.get_str(Tag.SYMBOL, None)
        if symbol is None or symbol in known or symbol in extra:
            continue
        price = msg.get_decimal(Tag.PRICE, Decimal("1.0000"))
        if price <= 0:
            price = Decimal("1.0000")
        exponent = price.as_tuple().exponent
        tick = Decimal(1).scaleb(exponent if isinstance(exponent, int) else -4)
        spread = tick * _SPREAD_TICKS
        if price - spread <= 0:
            spread = price / 2
        extra[symbol] = Instrument(symbol, price - spread, price + spread, tick)
    return [*DEFAULT_INSTRUMENTS, *extra.values()]


async def simulate(
    entries: Sequence[Entry],
    show: Callable[[str, Decoded], None],
    *,
    client: str | None = None,
    speed: float = 0.0,
    seed: int = 0,
) -> SimulatorReplay:
    """Replay the client side of `entries` to a simulated LP; `show(direction, decoded)` is
    called with "->" for every message sent and "<-" for every answer, in order.

    Raises:
        ReplayError: the log has no message from the client, or does not start with its Logon.
    """
    from simulator import run_mini_lp

    client, lp, mine = _client_messages(entries, client)
    result = SimulatorReplay(client, lp, skipped=sum(1 for e in entries if _sender(e) == lp))
    logon = mine[0].decoded.message
    assert logon is not None
    store = MemoryStore()
    store.open_session(SESSION_ID, datetime.now(UTC))
    store.set_next_target_seq(SESSION_ID, logon.seq_num)
    store.close_session(SESSION_ID)
    settings = SessionSettings(
        lp,
        client,
        Role.ACCEPTOR,
        begin_string=logon.begin_string.decode("ascii", "replace"),
        check_latency=False,
    )
    spec = EngineSpec([SessionSpec(SESSION_ID, settings)])
    validator = Validator()
    ours, theirs = trio.testing.memory_stream_pair()
    index = 0

    async def read_answers() -> None:
        nonlocal index
        framer = Framer()
        while data := await ours.receive_some():
            for frame in framer.feed(data):
                index += 1
                if isinstance(frame, GarbledFrame):  # pragma: no cover - the simulator is ours
                    show("<-", Decoded(index, "simulator", garbled=frame))
                    continue
                result.received += 1
                if frame.msg_type in (MsgType.REJECT, MsgType.BUSINESS_MESSAGE_REJECT):
                    result.rejected += 1
                show("<-", Decoded(index, "simulator", frame, error=validator.validate(frame)))

    instruments = _instruments(mine)
    async with open_engine(spec, store=store) as engine, trio.open_nursery() as nursery:
        nursery.start_soon(engine.run_connection, SESSION_ID, theirs)
        nursery.start_soon(
            functools.partial(run_mini_lp, engine, SESSION_ID, seed=seed, instruments=instruments)
        )
        nursery.start_soon(read_answers)
        previous: datetime | None = None
        for entry in mine:
            if speed > 0 and previous is not None and entry.time is not None:
                await trio.sleep(max((entry.time - previous).total_seconds(), 0) / speed)
            previous = entry.time or previous
            msg = entry.decoded.message
            assert msg is not None
            index += 1
            show("->", Decoded(index, entry.decoded.label, msg, error=entry.decoded.error))
            await ours.send_all(_raw(msg))
            result.sent += 1
            await trio.testing.wait_all_tasks_blocked(_SETTLE)
        nursery.cancel_scope.cancel()
    return result


def _raw(msg: Message) -> bytes:
    return msg.raw if msg.raw is not None else msg.encode()
