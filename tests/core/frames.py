"""Fixtures for the core tests: raw FIX frames built by hand, independently of the encoder."""

from __future__ import annotations

from trifix.core.codec import Framer, GarbledFrame
from trifix.core.message import Message

SOH = b"\x01"

HEADER = "49=CLIENT|56=BROKER|34=2|52=20240304-05:06:07.891|"
"""A valid standard header after MsgType: the peer CLIENT writing to us, BROKER."""


def frame(body: str | bytes, begin_string: bytes = b"FIX.4.4") -> bytes:
    """A complete frame around `body` ("35=...|...|", '|' standing for SOH).

    BodyLength and CheckSum are computed here with plain arithmetic (not trifix's own
    functions), so a test built on this helper checks the codec against the standard.
    """
    raw = body.encode("latin-1") if isinstance(body, str) else body
    raw = raw.replace(b"|", SOH)
    head = b"8=%b\x019=%d\x01" % (begin_string, len(raw))
    return head + raw + b"10=%03d\x01" % (sum(head + raw) % 256)


def message(body: str | bytes) -> Message:
    """Frame `body` and read it back through a fresh Framer: exactly one Message."""
    out = Framer().feed(frame(body))
    assert len(out) == 1, out
    msg = out[0]
    assert isinstance(msg, Message), msg
    return msg


def garbled(data: bytes) -> GarbledFrame:
    """Feed `data` (then close) and return the single GarbledFrame it must produce."""
    framer = Framer()
    out = framer.feed(data) + framer.close()
    assert len(out) == 1, out
    g = out[0]
    assert isinstance(g, GarbledFrame), g
    return g
