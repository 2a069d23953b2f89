"""Errors of the trading layer: one root, `TradingError`, under trifix's `FixError`."""

from __future__ import annotations

from trifix.core.errors import FixError


class TradingError(FixError):
    """Root of the trading layer's errors."""


class TradingMessageError(TradingError, ValueError):
    """A wire message cannot be read as (or written from) its typed form.

    Attributes:
        msg_type: the MsgType of the message.
        tag: the field at fault, when one is.
        reason: what is wrong, in words.
    """

    def __init__(self, msg_type: str, reason: str, tag: int | None = None) -> None:
        where = f" (tag {tag})" if tag is not None else ""
        super().__init__(f"MsgType {msg_type}: {reason}{where}")
        self.msg_type = msg_type
        self.tag = tag
        self.reason = reason
