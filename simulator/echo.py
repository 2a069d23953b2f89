"""Echo mode: a test double for conformance scripts run against an acceptor.

For each application message received on its session:

* NewOrderSingle (35=D): sent straight back to its sender as a NewOrderSingle with the same
  body fields in the same order (the session stamps its own header). A resend of a ClOrdID
  already echoed, marked PossResend=Y (97=Y), is ignored: the application-level duplicate the
  FIX session test cases expect to be caught. A PossResend of a ClOrdID never seen is echoed.
* Anything else: a BusinessMessageReject (35=j) with BusinessRejectReason 3 (unsupported
  message type), RefSeqNum (45) and RefMsgType (372).

Session-level behaviour (logon checks, validation, resends, heartbeats) is the engine's, set
per session in the configuration.
"""

from __future__ import annotations

import contextlib
from functools import cache

from trifix.core.dictionary import Dictionary, Structure
from trifix.core.events import AppMessageReceived
from trifix.core.message import Message, tag_key
from trifix.core.tags import BusinessRejectReason, MsgType, Tag
from trifix.runtime import NotLoggedOnError, SessionHandle

__all__ = ["EchoApp", "echo_of"]


def _all_keys(structure: Structure) -> set[bytes]:
    keys = {tag_key(tag) for tag in structure.fields}
    for group in structure.groups.values():
        keys |= _all_keys(group.entry)
    return keys


@cache
def _envelope_keys() -> frozenset[bytes]:
    """Every tag of the standard header and trailer (their groups' fields included)."""
    fix44 = Dictionary.fix44()
    return frozenset(_all_keys(fix44.header) | _all_keys(fix44.trailer))


def echo_of(message: Message) -> Message:
    """`message`'s MsgType and body fields, in order, without its header and trailer."""
    envelope = _envelope_keys()
    msg_type_key = tag_key(Tag.MSG_TYPE)
    tags: list[bytes] = [msg_type_key]
    values: list[bytes] = [message.msg_type.encode()]
    for key, value in zip(message.tag_keys(), message.raw_values(), strict=True):
        if key not in envelope:
            tags.append(key)
            values.append(value)
    return Message(tags, values)


class EchoApp:
    """Serves one session in echo mode (see the module docstring) until cancelled.

    Args:
        handle: the session; this app consumes all of its events.

    Attributes:
        echoed: every ClOrdID echoed so far (kept across reconnections).
    """

    def __init__(self, handle: SessionHandle) -> None:
        self.handle = handle
        self.echoed: set[str] = set()

    async def serve(self) -> None:
        """Answer application messages until the engine stops or the task is cancelled."""
        async for event in self.handle.events():
            if isinstance(event, AppMessageReceived):
                await self.on_message(event.message, poss_resend=event.poss_resend)

    def clear(self) -> None:
        """Forget the ClOrdIDs echoed (a restart that loses state)."""
        self.echoed.clear()

    async def on_message(self, message: Message, *, poss_resend: bool) -> None:
        """Answer one application message."""
        if message.msg_type != MsgType.NEW_ORDER_SINGLE:
            await self._send(
                Message.new(
                    MsgType.BUSINESS_MESSAGE_REJECT,
                    (Tag.REF_SEQ_NUM, message.seq_num),
                    (Tag.REF_MSG_TYPE, message.msg_type),
                    (Tag.BUSINESS_REJECT_REASON, BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE),
                    (Tag.TEXT, f"Unsupported Message Type {message.msg_type}"),
                )
            )
            return
        cl_ord_id = message.get_str(Tag.CL_ORD_ID, None)
        if poss_resend and cl_ord_id is not None and cl_ord_id in self.echoed:
            return  # already answered: a PossResend must not be processed twice
        if cl_ord_id is not None:
            self.echoed.add(cl_ord_id)
        await self._send(echo_of(message))

    async def _send(self, message: Message) -> None:
        # The connection may have ended after the message arrived: nothing can carry an answer.
        with contextlib.suppress(NotLoggedOnError):
            await self.handle.send(message)
