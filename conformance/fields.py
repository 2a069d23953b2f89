"""Field lists of a script: how they are written, built into frames, and matched.

A field list is written in any of three forms, all kept in order:

* a string in FIX's own notation: ``"35=A|98=0|108=30"`` (``|`` or SOH between fields);
* a mapping: ``{MsgType: A, HeartBtInt: 30}`` (tags by number or by FIX name);
* a list of ``"tag=value"`` strings or one-entry mappings, when a tag repeats (groups).

Values are `Template` s (placeholders allowed). In an expectation a value may also be
``re:PATTERN`` (a regular expression the whole value must match), ``*`` (present, any value)
or null (``~``: the field must be absent). In a message to send, null leaves the field out
(``34: ~`` sends no MsgSeqNum). SendingTime (52), OrigSendingTime (122), BodyLength (9) and
CheckSum (10) are *volatile*: a literal value expected for them is matched by their shape, not
their value, since no script can know them in advance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from conformance.placeholders import PlaceholderError, Template
from trifix.core.message import Message, checksum
from trifix.core.tags import Tag

__all__ = [
    "GARBLES",
    "VOLATILE_SHAPES",
    "FieldSpec",
    "FieldSpecError",
    "build_frame",
    "frame_fields",
    "garble_frame",
    "match_fields",
    "parse_fields",
    "raw_bytes",
    "resolve_tag",
    "show",
]

_TIMESTAMP: Final = re.compile(r"[0-9]{8}-[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3}|\.[0-9]{6})?")
VOLATILE_SHAPES: Final[Mapping[int, tuple[re.Pattern[str], str]]] = {
    Tag.BODY_LENGTH: (re.compile(r"[0-9]+"), "a length"),
    Tag.CHECK_SUM: (re.compile(r"[0-9]{3}"), "a three-digit checksum"),
    Tag.SENDING_TIME: (_TIMESTAMP, "a UTCTimestamp"),
    Tag.ORIG_SENDING_TIME: (_TIMESTAMP, "a UTCTimestamp"),
}
_FRAMING: Final = frozenset({Tag.BEGIN_STRING, Tag.BODY_LENGTH, Tag.CHECK_SUM})
_AUTO_HEADER: Final = (Tag.SENDER_COMP_ID, Tag.TARGET_COMP_ID, Tag.MSG_SEQ_NUM, Tag.SENDING_TIME)
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class FieldSpecError(ValueError):
    """A field list that cannot be read (the message names the field and the fix)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a script's field list.

    Attributes:
        tag: the tag number.
        template: the value; None means absent (expect) or left out (send).
        pattern: for ``re:`` values, the compiled pattern (template is then None).
        any_value: for ``*``: present with any value.
    """

    tag: int
    template: Template | None
    pattern: re.Pattern[str] | None = None
    any_value: bool = False

    @property
    def is_absent(self) -> bool:
        """True for a null value: absent (expect) or left out (send)."""
        return self.template is None and self.pattern is None and not self.any_value

    def describe(self) -> str:
        """The expected value as shown in a failure."""
        if self.pattern is not None:
            return f"/{self.pattern.pattern}/"
        if self.any_value:
            return "any value"
        if self.template is None:
            return "absent"
        return repr(self.template.text)


def resolve_tag(key: object) -> int:
    """A tag from a script: a number (``35``, ``"35"``) or a FIX name (``MsgType``, ``MSG_TYPE``).

    Raises:
        FieldSpecError: not a positive number nor a FIX 4.4 field name.
    """
    if isinstance(key, bool):
        raise FieldSpecError(f"{key!r} is not a tag")
    if isinstance(key, int):
        if key > 0:
            return key
        raise FieldSpecError(f"tag numbers are positive, not {key}")
    text = str(key).strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    for name in (_CAMEL.sub("_", text).upper(), text.upper()):
        if name in Tag.__members__:
            return int(Tag[name])
    raise FieldSpecError(f"unknown tag {text!r}: write a tag number or a FIX 4.4 field name")


def _value_text(tag: int, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, int | float | str):
        return str(value)
    raise FieldSpecError(f"tag {tag}: the value must be text or a number, not {value!r}")


def _pairs(value: object) -> list[tuple[int, str | None]]:
    """The (tag, text) pairs of a field list in any of its three forms."""
    if isinstance(value, str):
        out: list[tuple[int, str | None]] = []
        for item in re.split(r"[|\x01]", value):
            if item.strip():
                out.extend(_pairs([item]))
        return out
    if isinstance(value, Mapping):
        pairs = []
        for key, val in value.items():
            tag = resolve_tag(key)
            pairs.append((tag, _value_text(tag, val)))
        return pairs
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, str):
                key, sep, text = item.partition("=")
                if not sep:
                    raise FieldSpecError(f"{item!r} is not tag=value")
                out.append((resolve_tag(key), text))
            elif isinstance(item, Mapping) and len(item) == 1:
                out.extend(_pairs(item))
            else:
                raise FieldSpecError(
                    f"{item!r}: each entry of a field list is 'tag=value' or one 'tag: value'"
                )
        return out
    raise FieldSpecError(
        "a field list is a string '35=A|108=30', a mapping {35: A} or a list of entries"
    )


def parse_fields(value: object, *, expect: bool) -> list[FieldSpec]:
    """Parse a field list; in an expectation, ``re:`` and ``*`` values are patterns.

    Raises:
        FieldSpecError: a malformed list, unknown tag, bad pattern or bad placeholder.
    """
    specs = []
    for tag, text in _pairs(value):
        if text is None:
            specs.append(FieldSpec(tag, None))
        elif expect and text == "*":
            specs.append(FieldSpec(tag, None, any_value=True))
        elif expect and text.startswith("re:"):
            try:
                specs.append(FieldSpec(tag, None, pattern=re.compile(text[3:])))
            except re.error as exc:
                raise FieldSpecError(f"tag {tag}: bad pattern {text[3:]!r}: {exc}") from None
        else:
            try:
                specs.append(FieldSpec(tag, Template.parse(text)))
            except PlaceholderError as exc:
                raise FieldSpecError(f"tag {tag}: {exc}") from None
    return specs


def build_frame(
    fields: Sequence[tuple[int, str | None]],
    *,
    begin_string: str,
    header: Mapping[int, str],
) -> bytes:
    """Encode a message in exactly the order given, adding what the script left implicit.

    `header` gives SenderCompID, TargetCompID, MsgSeqNum and SendingTime; each is inserted
    right after MsgType unless the script wrote that tag (with a value, or null to leave it
    out). BeginString, BodyLength and CheckSum are computed unless written (so a script can send
    a wrong BodyLength or CheckSum on purpose, or null to leave them out).
    """
    given = {tag for tag, _ in fields}
    framing = {tag: text for tag, text in fields if tag in _FRAMING}
    auto = [(tag, header[tag]) for tag in _AUTO_HEADER if tag not in given and tag in header]
    body_fields: list[tuple[int, str | None]] = []
    for tag, text in fields:
        if tag in _FRAMING:
            continue
        body_fields.append((tag, text))
        if tag == Tag.MSG_TYPE:
            body_fields.extend(auto)
            auto = []
    body_fields[:0] = auto  # no MsgType written: the header still comes first
    body = b"".join(
        b"%d=%s\x01" % (tag, text.encode("utf-8", "surrogateescape"))
        for tag, text in body_fields
        if text is not None
    )
    head = b""
    begin = framing.get(Tag.BEGIN_STRING, begin_string)
    if begin is not None:
        head += b"8=%s\x01" % begin.encode()
    length = framing.get(Tag.BODY_LENGTH, str(len(body)))
    if length is not None:
        head += b"9=%s\x01" % length.encode()
    frame = head + body
    total = framing.get(Tag.CHECK_SUM, f"{checksum(frame):03d}")
    if total is not None:
        frame += b"10=%s\x01" % total.encode()
    return frame


GARBLES: Final = ("checksum", "body_length")


def garble_frame(frame: bytes, how: str) -> bytes:
    """Spoil a well-formed frame so that a FIX engine must drop it as garbled.

    ``checksum``: the CheckSum is off by one. ``body_length``: BodyLength is five less than the
    body, so the CheckSum is not where it says (short, so the engine need not wait for more).
    """
    if how == "checksum":
        total = int(frame[-4:-1])
        return frame[:-4] + b"%03d\x01" % ((total + 1) % 256)
    if how == "body_length":
        start = frame.index(b"\x019=") + 3
        end = frame.index(b"\x01", start)
        return frame[:start] + b"%d" % max(1, int(frame[start:end]) - 5) + frame[end:]
    raise FieldSpecError(f"garble: {how!r} is not one of {', '.join(GARBLES)}")


def raw_bytes(text: str) -> bytes:
    """Raw bytes from a script: ``|`` and the four characters ``\\x01`` stand for SOH."""
    return text.replace("|", "\x01").replace("\\x01", "\x01").encode("utf-8", "surrogateescape")


def frame_fields(message: Message) -> list[tuple[int, str]]:
    """Every field of a received message as text, BeginString, BodyLength and CheckSum too."""
    fields = [(tag, value.decode("utf-8", "surrogateescape")) for tag, value in message.fields()]
    raw = message.raw or message.encode()
    head = raw.split(b"\x01", 2)
    length = head[1][2:].decode() if len(head) > 2 else ""
    total = raw[-4:-1].decode()
    return [
        (Tag.BEGIN_STRING, message.begin_string.decode()),
        (Tag.BODY_LENGTH, length),
        *fields,
        (Tag.CHECK_SUM, total),
    ]


def show(fields: Sequence[tuple[int, str]]) -> str:
    """A message as ``8=FIX.4.4|9=..|35=..|...|10=...|`` for reports."""
    return "".join(f"{tag}={value}|" for tag, value in fields)


def match_fields(
    expected: Sequence[tuple[FieldSpec, str | None]], got: Sequence[tuple[int, str]]
) -> str | None:
    """The first difference between what a step expects and a received message, or None.

    `expected` pairs each spec with its rendered value (None for patterns, ``*`` and absent).
    The expected fields must appear in the message in the order given; other fields may sit
    between them. A repeated tag matches its next occurrence after the previous match.
    """
    tags = [tag for tag, _ in got]
    matched: set[int] = set()
    pos = 0
    previous: int | None = None
    for spec, value in expected:
        if spec.is_absent:
            present = [v for t, v in got if t == spec.tag]
            if present:
                return f"{spec.tag}: expected absent, got {present[0]!r}"
            continue
        index = next((i for i in range(pos, len(tags)) if tags[i] == spec.tag), None)
        if index is None:
            if any(tags[i] == spec.tag and i not in matched for i in range(pos)):
                return f"{spec.tag}: out of order, expected after {previous}"
            return f"{spec.tag}: missing, expected {_describe(spec, value)}"
        actual = got[index][1]
        problem = _check_value(spec, value, actual)
        if problem is not None:
            return f"{spec.tag}: expected {problem}, got {actual!r}"
        matched.add(index)
        pos = index + 1
        previous = spec.tag
    return None


def _describe(spec: FieldSpec, value: str | None) -> str:
    if spec.template is not None and spec.tag in VOLATILE_SHAPES:
        return VOLATILE_SHAPES[spec.tag][1]
    if value is not None:
        return repr(value)
    return spec.describe()


def _check_value(spec: FieldSpec, value: str | None, actual: str) -> str | None:
    """None when `actual` satisfies the spec, else the expectation as shown in a failure."""
    if spec.any_value:
        return None
    if spec.pattern is not None:
        return None if spec.pattern.fullmatch(actual) else spec.describe()
    shape = VOLATILE_SHAPES.get(spec.tag)
    if shape is not None:
        return None if shape[0].fullmatch(actual) else shape[1]
    return None if actual == value else repr(value)
