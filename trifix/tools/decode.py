"""Decoding FIX logs for people: the logic behind `trifix decode`.

Input is bytes from a log file or a capture, in whichever of the usual forms it comes:

* SOH-delimited frames, one per line or back to back (a raw byte stream);
* one message per line with ``|`` or ``^A`` standing in for SOH, as logs, tickets and chat
  show them.

A line may start with a prefix before ``8=FIX``: QuickFIX's file log writes
``20240312-09:30:00.000 : 8=FIX.4.4<SOH>...``. The prefix is kept as the message's *label*
(shown, never parsed). Lines with no ``8=FIX`` are skipped and counted.

Delimiter-converted lines are turned back into SOH form before framing. A delimiter is taken as
one only where a field (``digits=``) or the end of the line follows, so a ``|`` inside a Text
value survives. The substitution is one byte for one byte, so BodyLength (9) still checks, and
converting back restores the sender's bytes: a matching CheckSum (10) proves the message
intact. A CheckSum that does not match is *not* a rejection here, because such lines are mostly
hand-edited or hand-made; the message is decoded with the note "checksum not verified
(converted delimiters)". SOH input is held to the session's rule: a bad CheckSum is a garbled
frame.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Final, NamedTuple

from trifix.core.codec import Framer, GarbledFrame
from trifix.core.dictionary import Dictionary, Structure
from trifix.core.message import SOH, Message, checksum, read_group
from trifix.core.tags import Tag
from trifix.core.validate import REASON_TEXT, ValidationError, Validator

__all__ = [
    "CONVERTED_NOTE",
    "Decoded",
    "FieldRow",
    "LogScanner",
    "Tally",
    "decode",
    "field_rows",
    "render_json",
    "render_text",
    "to_json",
]

CONVERTED_NOTE: Final = "checksum not verified (converted delimiters)"
"""The note on a '|' or '^A' message whose CheckSum does not match its bytes."""

_FIX44: Final = Dictionary.fix44()
_SYNC: Final = b"8=FIX"
_HEAD: Final = re.compile(rb"8=FIX[^\x01]{0,27}\x019=([0-9]{1,8})\x0135=")
_FIELD_START: Final = re.compile(rb"[0-9]+=")
_DELIMITERS: Final = (b"^A", b"|")  # in order of preference: '|' may also occur in values
_PREVIEW: Final = 240  # characters of a garbled frame worth showing
_TAG_WIDTH: Final = 4
_LINE_END: Final = b" \t\r\n"  # stripped after a frame's last SOH: not part of the frame


# -- reading -------------------------------------------------------------------------------------
class _Patch(NamedTuple):
    stated: str
    note: str


@dataclass(frozen=True, slots=True)
class Decoded:
    """One frame of the input, decoded.

    Attributes:
        index: position in the input, from 1 (garbled frames count too).
        label: the log line's prefix before ``8=FIX`` (a timestamp, usually), or "".
        message: the message, unless the frame is garbled.
        garbled: why the frame could not be read, when it could not.
        error: the Reject the message would get (None when valid or not validated).
        notes: remarks that do not make the message invalid.
        stated_checksum: the CheckSum the input gave, when a converted line's was replaced.
    """

    index: int
    label: str
    message: Message | None = None
    garbled: GarbledFrame | None = None
    error: ValidationError | None = None
    notes: tuple[str, ...] = ()
    stated_checksum: str | None = None

    @property
    def ok(self) -> bool:
        """True when the frame is a message and passed validation (or was not validated)."""
        return self.garbled is None and self.error is None


class LogScanner:
    """Splits log lines (or raw chunks) into frames. One scanner per input.

    Attributes:
        skipped_lines: lines that held no ``8=FIX`` and were not inside a frame (blank lines
            are not counted).
    """

    def __init__(self) -> None:
        self.skipped_lines = 0

    def scan(
        self, lines: Iterable[bytes]
    ) -> Iterator[tuple[str, Message | GarbledFrame, _Patch | None]]:
        """Yield (label, frame, checksum patch) for every frame, in input order.

        `lines` are byte strings with their line endings, as iterating a binary file gives
        them; a raw stream without newlines is one long line.
        """
        framer = Framer()
        label = ""
        for line in lines:
            start = line.find(_SYNC)
            if framer.buffered > 0:
                # A frame that spans lines (a data field may hold a newline): keep feeding.
                frames = _feed_line(framer, line)
                new_label = _label(line[:start]) if start >= 0 else label
                for i, frame in enumerate(frames):
                    yield (label if i == 0 else new_label), frame, None
                if frames:
                    label = new_label
                continue
            if start < 0:
                if line.strip():
                    self.skipped_lines += 1
                continue
            label = _label(line[:start])
            text = line[start:].rstrip(_LINE_END)
            if SOH in text:
                for frame in _feed_line(framer, line[start:]):
                    yield label, frame, None
                continue
            converted = _to_soh(text)
            if converted is None:
                reason = "no field delimiter (SOH, '|' or '^A') after 8=FIX"
                yield label, GarbledFrame(reason, text), None
                continue
            data, patches = _restore_checksums(converted)
            frames = framer.feed(data)
            if framer.buffered > 0:
                reason = "the line ends inside the frame (is BodyLength (9) right?)"
                (held,) = framer.close()  # the partial frame, reported as garbled
                assert isinstance(held, GarbledFrame)
                frames.append(GarbledFrame(reason, held.data))
            for frame in frames:
                patch = patches.get(frame.raw or b"") if isinstance(frame, Message) else None
                yield label, frame, patch
        for frame in framer.close():
            yield label, frame, None


def _feed_line(framer: Framer, line: bytes) -> list[Message | GarbledFrame]:
    """Feed SOH data without its line ending, unless the ending falls inside a frame (a data
    field may hold a newline): then it is part of the frame."""
    text = line.rstrip(_LINE_END)
    frames = framer.feed(text)
    if framer.buffered > 0 and len(text) < len(line):
        frames += framer.feed(line[len(text) :])
    return frames


def _label(prefix: bytes) -> str:
    """A log line's prefix as a label: QuickFIX's "20240312-09:30:00.000 : " → the time."""
    return prefix.decode("utf-8", "replace").strip().rstrip(":").rstrip()


def _to_soh(text: bytes) -> bytes | None:
    """A '^A'- or '|'-delimited message in SOH form, or None when it has neither delimiter.

    A delimiter counts only where a field (``digits=``) or the end of the text follows; any
    other occurrence is part of a value. A missing final delimiter is added.
    """
    for delim in _DELIMITERS:
        if delim in text:
            break
    else:
        return None
    pieces = text.split(delim)
    last = len(pieces) - 1
    fields = [pieces[0]]
    for i in range(1, last + 1):
        piece = pieces[i]
        if _FIELD_START.match(piece) or (i == last and not piece):
            fields.append(piece)
        else:
            fields[-1] += delim + piece
    out = SOH.join(fields)
    return out if out.endswith(SOH) else out + SOH


def _restore_checksums(data: bytes) -> tuple[bytes, dict[bytes, _Patch]]:
    """Replace each wrong CheckSum in converted `data` by the right one, noting the change.

    Frames whose BodyLength does not lead to a CheckSum are left for the framer to diagnose.
    """
    buf = bytearray(data)
    patches: dict[bytes, _Patch] = {}
    pos = 0
    while (head := _HEAD.search(buf, pos)) is not None:
        cpos = head.end() - 3 + int(head[1])
        end = cpos + 7
        trailer = bytes(buf[cpos:end])
        if len(trailer) < 7 or trailer[:3] != b"10=" or trailer[6:] != SOH:
            break
        computed = checksum(memoryview(buf)[head.start() : cpos])
        stated = trailer[3:6]
        if not stated.isdigit() or int(stated) != computed:
            buf[cpos + 3 : cpos + 6] = b"%03d" % computed
            shown = stated.decode("latin-1")
            note = f"{CONVERTED_NOTE}: CheckSum (10) is {shown}, the bytes sum to {computed:03d}"
            patches[bytes(buf[head.start() : end])] = _Patch(shown, note)
        pos = end
    return bytes(buf), patches


def decode(
    lines: Iterable[bytes],
    *,
    validator: Validator | None = None,
    scanner: LogScanner | None = None,
) -> Iterator[Decoded]:
    """Decode every frame of `lines`, validating messages with `validator` when given.

    Pass a `scanner` to read its `skipped_lines` afterwards.
    """
    scanner = scanner or LogScanner()
    for index, (label, frame, patch) in enumerate(scanner.scan(lines), 1):
        if isinstance(frame, GarbledFrame):
            yield Decoded(index, label, garbled=frame)
            continue
        error = validator.validate(frame) if validator is not None else None
        if patch is None:
            yield Decoded(index, label, message=frame, error=error)
        else:
            yield Decoded(
                index, label, frame, error=error, notes=(patch.note,), stated_checksum=patch.stated
            )


@dataclass(slots=True)
class Tally:
    """Counts of what was decoded, for the summary line and the exit code.

    Attributes:
        validated: whether messages were validated (the summary says so when not).
        frames: every frame read, garbled ones included.
        rejected: messages that failed validation.
        garbled: frames that could not be read as messages.
        unverified: converted messages whose CheckSum did not match (see `CONVERTED_NOTE`).
    """

    validated: bool = True
    frames: int = 0
    rejected: int = 0
    garbled: int = 0
    unverified: int = 0

    def add(self, d: Decoded) -> None:
        """Count one decoded frame."""
        self.frames += 1
        self.garbled += d.garbled is not None
        self.rejected += d.error is not None
        self.unverified += d.stated_checksum is not None

    @property
    def failed(self) -> int:
        """Frames that were invalid or garbled."""
        return self.rejected + self.garbled

    def __str__(self) -> str:
        noun = "message" if self.frames == 1 else "messages"
        if self.validated:
            valid = self.frames - self.failed
            text = f"{valid} valid, {self.rejected} invalid, {self.garbled} garbled"
        else:
            read = self.frames - self.garbled
            text = f"{read} read, {self.garbled} garbled (not validated)"
        if self.unverified:
            text += f", {self.unverified} with an unverified checksum"
        return f"{self.frames} {noun}: {text}"


# -- the fields of a message ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FieldRow:
    """One field as a person reads it.

    Attributes:
        tag: the tag as it appeared (digits, unless the input was malformed).
        name: the dictionary's name for the tag, or "" when it has none.
        value: the value, with unprintable bytes escaped (``\\x01``).
        meaning: the enum name of the value (``BUY`` for Side=1), when the dictionary has one.
        entries: for a repeating group's NumInGroup field, the entries' fields; else None.
    """

    tag: str
    name: str
    value: str
    meaning: str | None = None
    entries: tuple[tuple[FieldRow, ...], ...] | None = None


def field_rows(msg: Message, stated_checksum: str | None = None) -> list[FieldRow]:
    """The fields of `msg` in wire order, BeginString to CheckSum, groups nested."""
    frame = msg.raw if msg.raw is not None else msg.encode()
    body_length = frame.split(SOH, 2)[1][2:]
    rows = [_row(b"8", msg.begin_string), _row(b"9", body_length)]
    rows += _walk(msg.tag_keys(), msg.raw_values(), _layout(msg.msg_type))
    if stated_checksum is None:
        rows.append(_row(b"10", frame[-4:-1]))
    else:
        rows.append(_row(b"10", stated_checksum.encode("latin-1")))
    return rows


def _walk(tags: list[bytes], values: list[bytes], layout: Structure) -> list[FieldRow]:
    rows: list[FieldRow] = []
    i = 0
    n = len(tags)
    while i < n:
        key, raw = tags[i], values[i]
        i += 1
        gdef = layout.group_keys.get(key)
        if gdef is None:
            rows.append(_row(key, raw))
            continue
        group, i = read_group(tags, values, i, gdef)
        entries = tuple(
            tuple(_walk(entry.tag_keys(), entry.raw_values(), gdef.entry)) for entry in group
        )
        row = _row(key, raw)
        rows.append(FieldRow(row.tag, row.name, row.value, row.meaning, entries))
    return rows


def _row(key: bytes, raw: bytes) -> FieldRow:
    fdef = _FIX44.fields_by_key.get(key)
    tag = _show(key)
    if fdef is None:
        return FieldRow(tag, "", _show(raw))
    return FieldRow(tag, fdef.name, _show(raw), fdef.describe(raw))


@cache
def _layout(msg_type: str) -> Structure:
    """Where a message type's groups are: its body's and the header's."""
    mdef = _FIX44.messages.get(msg_type)
    if mdef is None:
        return _FIX44.header
    body = mdef.body
    return Structure(body.fields, body.required, {**_FIX44.header.groups, **body.groups})


def _show(raw: bytes) -> str:
    """Bytes as text for a terminal: UTF-8 where it is, escapes for the rest."""
    text = raw.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


# -- text ------------------------------------------------------------------------------------------
_RESET: Final = "\x1b[0m"
_BOLD: Final = "\x1b[1m"
_DIM: Final = "\x1b[2m"
_RED: Final = "\x1b[1;31m"
_GREEN: Final = "\x1b[32m"
_YELLOW: Final = "\x1b[33m"
_CYAN: Final = "\x1b[36m"


def render_text(d: Decoded, *, color: bool = False) -> str:
    """`d` as lines for a terminal: a header line, one line per field, then any problem.

    Group entries are indented under their NumInGroup field, nested groups further. With
    `color`, ANSI escapes mark names, meanings and problems. Ends with a newline.
    """

    def paint(text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if color and text else text

    label = f"  [{d.label}]" if d.label else ""
    if d.garbled is not None:
        preview = _show(d.garbled.data.replace(SOH, b"|"))
        if len(preview) > _PREVIEW:
            preview = preview[:_PREVIEW] + "..."
        head = paint(f"#{d.index}  GARBLED: {d.garbled.reason}", _RED) + paint(label, _DIM)
        return f"{head}\n  {preview}\n"
    msg = d.message
    assert msg is not None  # a Decoded holds a message or a garbled frame
    lines = [paint(_headline(d.index, msg), _BOLD) + paint(label, _DIM)]
    flat = list(_flatten(field_rows(msg, d.stated_checksum), "  "))
    width = max(len(_left(indent, row)) for indent, row in flat)
    for indent, row in flat:
        pad = " " * (width - len(_left(indent, row)))
        tag = f"{row.tag:<{_TAG_WIDTH}}"
        name = paint(row.name or "?", _CYAN)
        text = f"{indent}{paint(tag, _DIM)} {name}{pad} = {row.value}"
        if row.meaning is not None:
            text += " " + paint(f"({row.meaning})", _GREEN)
        lines.append(text)
    if d.error is not None:
        lines.append("  " + paint(_reject_line(d.error), _RED))
    lines.extend("  " + paint(f"note: {note}", _YELLOW) for note in d.notes)
    return "\n".join(lines) + "\n"


def _headline(index: int, msg: Message) -> str:
    mt = msg.msg_type
    mdef = _FIX44.messages.get(mt)
    name = mdef.name if mdef is not None else "Unknown"
    seq = _text(msg, Tag.MSG_SEQ_NUM)
    return (
        f"#{index}  {name} ({mt})  seq={seq}  "
        f"{_text(msg, Tag.SENDER_COMP_ID)} -> {_text(msg, Tag.TARGET_COMP_ID)}"
    )


def _text(msg: Message, tag: int) -> str:
    raw = msg.get(tag)
    return "?" if raw is None else _show(raw)


def _flatten(rows: Iterable[FieldRow], indent: str) -> Iterator[tuple[str, FieldRow]]:
    """(indent, row) for every row, group entries indented under their count field."""
    for row in rows:
        yield indent, row
        for entry in row.entries or ():
            yield from _flatten(entry, indent + "  ")


def _left(indent: str, row: FieldRow) -> str:
    """The plain text left of the '=': its width aligns the values."""
    return f"{indent}{row.tag:<{_TAG_WIDTH}} {row.name or '?'}"


def _reject_line(error: ValidationError) -> str:
    """``Reject 373=5 (Value is incorrect (out of range) for this tag) ref_tag=54``."""
    reason = REASON_TEXT.get(error.reason, error.reason.name)
    line = f"Reject 373={int(error.reason)} ({reason})"
    standard = reason
    if error.ref_tag is not None:
        line += f" ref_tag={error.ref_tag}"
        standard += f", field={error.ref_tag}"
    detail = error.text.removeprefix(standard).strip()
    return f"{line} {detail}" if detail else line


# -- JSON ------------------------------------------------------------------------------------------
def to_json(d: Decoded) -> dict[str, object]:
    """`d` as a JSON-ready dict: the same keys for messages and garbled frames.

    Keys: index, label, msg_type, msg_type_name, seq_num, sender, target, fields (a list of
    {tag, name, value, meaning}, a group's count field adding ``entries``: a list of entries,
    each a list of fields), error (null, {kind: "reject", reason, reason_text, ref_tag,
    ref_msg_type, text} or {kind: "garbled", reason, data}) and notes.
    """
    out: dict[str, object] = {"index": d.index, "label": d.label or None}
    msg = d.message
    if msg is None:
        assert d.garbled is not None  # a Decoded holds a message or a garbled frame
        out.update(
            msg_type=None, msg_type_name=None, seq_num=None, sender=None, target=None, fields=[]
        )
        out["error"] = {
            "kind": "garbled",
            "reason": d.garbled.reason,
            "data": _show(d.garbled.data),
        }
        out["notes"] = list(d.notes)
        return out
    mdef = _FIX44.messages.get(msg.msg_type)
    seq = msg.get(Tag.MSG_SEQ_NUM)
    sender = msg.get(Tag.SENDER_COMP_ID)
    target = msg.get(Tag.TARGET_COMP_ID)
    out["msg_type"] = msg.msg_type
    out["msg_type_name"] = mdef.name if mdef is not None else None
    out["seq_num"] = int(seq) if seq is not None and seq.isdigit() else None
    out["sender"] = _show(sender) if sender is not None else None
    out["target"] = _show(target) if target is not None else None
    out["fields"] = [_field_json(row) for row in field_rows(msg, d.stated_checksum)]
    out["error"] = None if d.error is None else _error_json(d.error)
    out["notes"] = list(d.notes)
    return out


def _field_json(row: FieldRow) -> dict[str, object]:
    out: dict[str, object] = {
        "tag": int(row.tag) if row.tag.isdigit() else row.tag,
        "name": row.name or None,
        "value": row.value,
        "meaning": row.meaning,
    }
    if row.entries is not None:
        out["entries"] = [[_field_json(r) for r in entry] for entry in row.entries]
    return out


def _error_json(error: ValidationError) -> dict[str, object]:
    return {
        "kind": "reject",
        "reason": int(error.reason),
        "reason_text": REASON_TEXT.get(error.reason, error.reason.name),
        "ref_tag": error.ref_tag,
        "ref_msg_type": error.ref_msg_type or None,
        "text": error.text,
    }


def render_json(d: Decoded) -> str:
    """`d` as one line of JSON (JSON Lines: one object per frame)."""
    return json.dumps(to_json(d), ensure_ascii=False)
