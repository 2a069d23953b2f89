"""Framing a FIX byte stream into messages, and the checks the wire format asks for.

`Framer` takes bytes in whatever chunks the transport delivers and returns whole messages.
It enforces the standard's order, which is what makes framing possible at all:
BeginString (8) first, BodyLength (9) second, MsgType (35) third, and CheckSum (10) exactly at
the position BodyLength gives. A frame that breaks any of these is *garbled*: the framer reports
it (with the reason) as a `GarbledFrame` value and resynchronises on the next ``8=FIX``, so one
bad frame never hides the good ones behind it. A BodyLength above the configured maximum is
refused as soon as it is read, without buffering the body. The framer raises nothing; every
outcome is a value. Encoding lives on `Message.encode`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from zlib import adler32

from trifix.core.errors import GarbledMessageError, LocalProtocolError
from trifix.core.message import (
    _ALTERNATION,
    _DATA_SHAPE,
    _NOT_DELIMITERS,
    _SHAPES,
    SOH,
    Message,
    checksum,
    learn_shape,
)

__all__ = ["DEFAULT_MAX_BODY_LENGTH", "Framer", "GarbledFrame", "checksum"]

DEFAULT_MAX_BODY_LENGTH: Final = 1 << 20
_BEGIN: Final = b"8="
_SYNC: Final = b"8=FIX"
_MAX_BEGIN_STRING: Final = 32  # "FIX.4.4", "FIXT.1.1": anything longer is not a header
_TRAILER_SUM: Final = sum(b"10=\x01")
# The fast path's view of 8, 9 and 35; compiled per framer with at most as many BodyLength
# digits as its limit has, like the slow path, so that chunking never changes the verdict.
_HEAD: Final = rb"8=FIX[^\x01]{0,27}\x019=([0-9]{1,%d})\x0135="
_from_frame: Final = Message.from_frame
new_message: Final = object.__new__
# For each possible "NNN" of a trailer: 1 + the checksum of the *whole* frame (trailer
# included) when NNN is right. Adler-32's low 16 bits are 1 + the byte sum while that sum stays
# under 65521 (see `checksum`), so one C call over the frame and one lookup check it.
_WHOLE_FRAME_SUM: Final = {
    b"\x0110=%03d\x01" % n: (n + _TRAILER_SUM + sum(b"%03d" % n) + 1) & 0xFF for n in range(256)
}


@dataclass(frozen=True, slots=True)
class GarbledFrame:
    """Bytes the framer discarded, and why. The session ignores these (FIX 4.4 vol. 2:
    a garbled message is not processed and its sequence number is not consumed)."""

    reason: str
    data: bytes


Frame = Message | GarbledFrame


def _frame_checksum(frame: bytes) -> int:
    """The checksum of a whole frame's bytes before its "10=NNN\x01" trailer."""
    if len(frame) <= 256:  # one C call over everything, then take the trailer back out
        return (checksum(frame) - _TRAILER_SUM - sum(frame[-4:-1])) & 0xFF
    return checksum(memoryview(frame)[:-7])


class Framer:
    """Incremental FIX framer: `feed` bytes, get `Message` and `GarbledFrame` values back.

    Args:
        max_body_length: the largest BodyLength accepted (default 1 MiB). Larger frames are
            reported garbled without being buffered.
    """

    __slots__ = ("_buf", "_match_head", "_max_body", "_max_digits", "_skipping")

    def __init__(self, *, max_body_length: int = DEFAULT_MAX_BODY_LENGTH) -> None:
        if max_body_length < 1:
            raise LocalProtocolError("max_body_length must be positive")
        self._max_body = max_body_length
        self._max_digits = len(str(max_body_length))
        self._match_head = re.compile(_HEAD % self._max_digits).match
        self._buf = b""
        self._skipping = False

    @property
    def buffered(self) -> int:
        """How many bytes are held waiting for the rest of a frame."""
        return len(self._buf)

    @property
    def max_buffered(self) -> int:
        """The most the framer ever holds between calls: one maximal frame's header and body."""
        return self._max_body + _MAX_BEGIN_STRING + self._max_digits + 16

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add bytes from the transport; return every frame they complete, in order."""
        buf = self._buf + data if self._buf else data if type(data) is bytes else bytes(data)
        out: list[Frame] = []
        n = len(buf)
        pos = 0
        max_body = self._max_body
        match_head = self._match_head
        while pos < n:
            # Fast path: a whole, well-formed frame (the overwhelmingly common case).
            head = match_head(buf, pos)
            if head is not None:
                body_length = int(head[1])
                cpos = head.end() - 3 + body_length
                end = cpos + 7
                # One lookup checks the trailer's shape ("\x0110=NNN\x01", the body ending on a
                # whole field) and gives the checksum the whole frame must have.
                expected = _WHOLE_FRAME_SUM.get(buf[cpos - 1 : end])
                if expected is not None and end <= n and body_length <= max_body:
                    frame = buf[pos:end]
                    size = end - pos
                    # One Adler-32 call sums up to 256 bytes, or 515 of ASCII (at most 127 each).
                    if expected == (
                        adler32(frame) & 0xFF
                        if size <= 256 or (size <= 515 and frame.isascii())
                        else (checksum(frame) + 1) & 0xFF
                    ):
                        self._skipping = False
                        pos = end
                        # Message.from_frame's fast path, inlined: the hot path of every
                        # received message (see ADR-002).
                        delims = frame.translate(None, _NOT_DELIMITERS)
                        if not len(delims) & 1 and _ALTERNATION.startswith(delims):
                            parts = frame.replace(b"=", SOH).split(SOH)
                            tags = parts[4:-3:2]
                            # The index is the shape's: one join and one lookup (ADR-001).
                            key = b"=".join(tags)
                            index = _SHAPES.get(key)
                            if index is None:
                                index = learn_shape(key, tags)
                            if index is not _DATA_SHAPE:
                                msg = new_message(Message)
                                msg._tags = tags
                                msg._values = parts[5:-3:2]
                                msg._index = index
                                msg.begin_string = parts[1]
                                msg.raw = frame
                                out.append(msg)
                                continue
                        try:
                            out.append(_from_frame(frame))
                        except GarbledMessageError as exc:
                            out.append(GarbledFrame(str(exc), frame))
                        continue
            # Slow path: diagnose, wait for more bytes, or resynchronise.
            if not buf.startswith(_BEGIN, pos):
                if pos + 1 == n and buf[pos] == 0x38:  # a lone "8": wait for the next byte
                    break
                pos = self._resync(buf, pos, pos, "data before BeginString (8)", out)
                continue
            # 8=BeginString
            e1 = buf.find(SOH, pos + 2, pos + 2 + _MAX_BEGIN_STRING)
            if e1 < 0:
                if n - pos < 2 + _MAX_BEGIN_STRING:
                    break  # wait for more
                pos = self._resync(buf, pos, pos + 1, "BeginString (8) is not terminated", out)
                continue
            if not buf.startswith(_SYNC, pos):
                pos = self._resync(buf, pos, pos + 1, "BeginString (8) is not FIX", out)
                continue
            # 9=BodyLength
            b = e1 + 1
            if n - b < 3:
                break
            if buf[b : b + 2] != b"9=":
                pos = self._resync(buf, pos, b, "BodyLength (9) is not the second field", out)
                continue
            e2 = buf.find(SOH, b + 2, b + 3 + self._max_digits)
            if e2 < 0:
                if n - b < 3 + self._max_digits:
                    break
                pos = self._resync(buf, pos, b, "BodyLength (9) is too long", out)
                continue
            digits = buf[b + 2 : e2]
            if not digits.isdigit():
                pos = self._resync(buf, pos, b, f"BodyLength (9) is not a number: {digits!r}", out)
                continue
            body_length = int(digits)
            if body_length > self._max_body:
                reason = f"BodyLength {body_length} exceeds the maximum {self._max_body}"
                pos = self._resync(buf, pos, e2, reason, out)
                continue
            # 35=MsgType
            c = e2 + 1
            if n - c < 3:
                break
            if buf[c : c + 3] != b"35=":
                pos = self._resync(buf, pos, c, "MsgType (35) is not the third field", out)
                continue
            # 10=CheckSum at exactly the position BodyLength gives
            cpos = c + body_length
            end = cpos + 7
            if n < end:
                break
            trailer = buf[cpos:end]
            if (
                trailer[:3] != b"10="
                or trailer[6] != 1
                or not trailer[3:6].isdigit()
                or buf[cpos - 1] != 1  # the body must end with a whole field
            ):
                reason = "CheckSum (10) is not where BodyLength (9) says"
                pos = self._resync(buf, pos, c, reason, out)
                continue
            frame = buf[pos:end]
            expected = int(trailer[3:6])
            computed = _frame_checksum(frame)
            if computed != expected:
                reason = f"CheckSum is {expected:03d} but the bytes sum to {computed:03d}"
                pos = self._resync(buf, pos, c, reason, out)
                continue
            try:
                msg = Message.from_frame(frame)
            except GarbledMessageError as exc:
                out.append(GarbledFrame(str(exc), frame))
                self._skipping = False
                pos = end
                continue
            out.append(msg)
            self._skipping = False
            pos = end
        self._buf = buf[pos:] if pos < n else b""
        return out

    def _resync(self, buf: bytes, pos: int, search_from: int, reason: str, out: list[Frame]) -> int:
        """Drop a garbled frame: report it and move to the next ``8=FIX`` after `search_from`."""
        nxt = buf.find(_SYNC, max(search_from, pos + 1))
        if nxt < 0:
            nxt = len(buf)
            # Keep a tail that could be the start of "8=FIX" split across chunks.
            for k in range(max(pos + 1, len(buf) - len(_SYNC) + 1), len(buf)):
                if _SYNC.startswith(buf[k:]):
                    nxt = k
                    break
        if not self._skipping or reason != "data before BeginString (8)":
            out.append(GarbledFrame(reason, buf[pos:nxt]))
        # Bytes after a refused frame are its body: drop them quietly until the next frame.
        self._skipping = True
        return nxt

    def close(self) -> list[Frame]:
        """The transport ended: report any partial frame still held, and reset."""
        rest, self._buf = self._buf, b""
        self._skipping = False
        if rest:
            return [GarbledFrame("connection ended inside a frame", rest)]
        return []
