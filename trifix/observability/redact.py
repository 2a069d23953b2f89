"""Redaction: what a FIX message may show in logs, message dumps and error texts.

Every path that turns a message (or bytes that may hold one) into text for a human goes
through `redact`; free-form error strings go through `redact_text`. The default
`RedactionPolicy`:

* removes secrets outright: Password (554), NewPassword (925) and RawData (96, which some
  venues use to carry credentials on the Logon), so neither their value nor their length shows;
* masks account numbers: Account (1) and AllocAccount (79) keep their last two characters
  behind a fixed-width mask (``***53``), so neither the value nor its length shows;
* sanitises free text: Text (58) and EncodedText (355) have control characters replaced by
  ``?`` and are cut to `max_text` characters, so a counterparty cannot forge log lines or flood
  them.

Fields are shown as ``tag=value`` joined by ``|``. Bytes that do not split into fields (a
garbled frame, a fragment) never leak: each piece without a numeric tag becomes ``?``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from trifix.core.errors import FixError
from trifix.core.message import Message
from trifix.core.tags import Tag

__all__ = ["DEFAULT_POLICY", "RedactionPolicy", "redact", "redact_text", "sanitize"]

_SOH = b"\x01"
_GARBLED = "?"


@dataclass(frozen=True, slots=True)
class RedactionPolicy:
    """Which tags are removed, masked or sanitised (see the module docstring)."""

    remove: frozenset[int] = frozenset({Tag.PASSWORD, Tag.NEW_PASSWORD, Tag.RAW_DATA})
    """Tags dropped with their value."""
    mask: frozenset[int] = frozenset({Tag.ACCOUNT, Tag.ALLOC_ACCOUNT})
    """Tags whose value is masked but for its last `mask_keep` characters."""
    free_text: frozenset[int] = frozenset({Tag.TEXT, Tag.ENCODED_TEXT})
    """Tags whose value is sanitised (control characters, length)."""
    mask_keep: int = 2
    max_text: int = 200

    def mask_value(self, value: str) -> str:
        """``***`` plus the last `mask_keep` characters (none for values of 4 or fewer)."""
        keep = value[-self.mask_keep :] if self.mask_keep and len(value) > 4 else ""
        return "***" + keep

    def field(self, tag: int, value: bytes) -> str | None:
        """One field as ``tag=value`` text, redacted; None when it must not be shown."""
        if tag in self.remove:
            return None
        text = value.decode("utf-8", "replace")
        if tag in self.mask:
            text = self.mask_value(sanitize(text, self.max_text))
        else:
            text = sanitize(text, self.max_text if tag in self.free_text else _MAX_VALUE)
        return f"{tag}={text}"


DEFAULT_POLICY = RedactionPolicy()
_MAX_VALUE = 1000  # any other value: long enough for real fields, short enough for a log line


def sanitize(text: str, limit: int, *, keep_lines: bool = False) -> str:
    """`text` with control and other non-printable characters as ``?``, cut to `limit`.

    A cut value ends with ``...(+N)`` telling how many characters were left out. With
    `keep_lines`, newlines stay (a traceback keeps its shape).
    """
    cleaned = "".join(
        ch if ch.isprintable() or (keep_lines and ch == "\n") else _GARBLED
        for ch in unicodedata.normalize("NFC", text[: limit + 1])
    )
    if len(text) > limit:
        return f"{cleaned[:limit]}...(+{len(text) - limit})"
    return cleaned


def _fields_text(fields: Iterable[tuple[int, bytes]], policy: RedactionPolicy) -> str:
    out = []
    for tag, value in fields:
        shown = policy.field(tag, value)
        if shown is not None:
            out.append(shown)
    return "|".join(out)


def _split_loose(data: bytes) -> Iterable[tuple[int, bytes] | None]:
    """Fields of bytes that are not one clean frame; None for a piece that is not a field."""
    for piece in data.split(_SOH):
        if not piece:
            continue
        key, eq, value = piece.partition(b"=")
        if eq and key.isdigit() and len(key) <= 9:
            yield int(key), value
        else:
            yield None


def redact(
    data: Message | bytes | bytearray | memoryview, policy: RedactionPolicy = DEFAULT_POLICY
) -> str:
    """A message, a frame, several frames or a fragment as redacted ``tag=value|...`` text.

    A `Message` is shown from its fields after its BeginString (9 and 10 are left out, as for a
    frame); bytes that parse
    as one frame are shown from the parsed fields (data fields with embedded SOH stay whole);
    anything else is split at SOH, and pieces that are not ``tag=value`` show as ``?``.

    Args:
        data: what to show.
        policy: which tags to remove, mask and sanitise.
    """
    if isinstance(data, Message):
        head = f"8={sanitize(data.begin_string.decode('latin-1'), 20)}|"
        return head + _fields_text(data.fields(), policy)
    raw = bytes(data)
    try:
        message = Message.from_frame(raw)
    except (FixError, ValueError, IndexError):
        message = None
    if message is not None:
        head = f"8={sanitize(message.begin_string.decode('latin-1'), 20)}|"
        return head + _fields_text(message.fields(), policy)
    out = []
    for item in _split_loose(raw):
        if item is None:
            out.append(_GARBLED)
            continue
        shown = policy.field(item[0], item[1])
        if shown is not None:
            out.append(shown)
    return "|".join(out)


# A tag=value pair inside free text, with SOH, "|", "^" or whitespace ending the value.
_PAIR = re.compile(r"(?<![0-9])([0-9]{1,9})=([^\x01|^\s]*)")


@functools.lru_cache(maxsize=8)
def _secret_pattern(tags: frozenset[int]) -> re.Pattern[str]:
    """A removed tag's value runs to the next field separator or line end (spaces included:
    a secret with a space must not leave its second half behind)."""
    alternatives = "|".join(str(t) for t in sorted(tags)) or "(?!)"
    return re.compile(rf"(?<![0-9])({alternatives})=[^\x01|^\n]*")


def redact_text(
    text: str,
    policy: RedactionPolicy = DEFAULT_POLICY,
    *,
    limit: int = _MAX_VALUE,
    keep_lines: bool = False,
) -> str:
    """An error message or other free text with any FIX fields in it redacted.

    Error texts sometimes quote a message (``repr`` of a frame, a ``|``-separated dump): the
    values of removed tags become ``<redacted>``, masked tags are masked, and control
    characters are replaced (newlines too, unless `keep_lines`). The text is cut to `limit`
    characters.
    """

    def mask(match: re.Match[str]) -> str:
        if int(match.group(1)) in policy.mask:
            return f"{match.group(1)}={policy.mask_value(match.group(2))}"
        return match.group(0)

    plain = text.replace("\x01", "|").replace("\\x01", "|")
    plain = _secret_pattern(policy.remove).sub(r"\1=<redacted>", plain)
    return sanitize(_PAIR.sub(mask, plain), limit, keep_lines=keep_lines)
