"""Validation of received messages against the FIX 4.4 dictionary.

`Validator.validate(msg)` returns None or the exact `ValidationError` the session answers with a
Reject (35=3): SessionRejectReason (373), RefTagID (371) and RefMsgType (372), plus a Text (58).
It checks, in one pass over the fields in wire order: tag numbers are well formed (0) and known
(3), every field has a value (4), enumerated values are allowed (5), values have the right
format (6), header/body/trailer order (14), fields belong to the message type (2), no tag
repeats (13), repeating groups start with their delimiter and keep their order (15) and their
count matches NumInGroup (16); then required fields (1). An unknown MsgType is reason 11; a known
but unsupported application message is *valid* here (the session answers it with a
BusinessMessageReject). `check_comp_ids` (9) and `check_sending_time` (10) need the session's
identity and the current time, so they are separate functions.

Options carry QuickFIX's names in the docs: ValidateFieldsOutOfOrder, ValidateFieldsHaveValues,
ValidateUserDefinedFields, AllowUnknownMsgFields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from trifix.core.dictionary import Dictionary, FieldDef, GroupDef, Structure
from trifix.core.errors import FixError
from trifix.core.fields import FORMAT_PATTERNS, parse_utc_timestamp
from trifix.core.message import SOH, FieldMap, Message
from trifix.core.tags import SessionRejectReason, Tag

R = SessionRejectReason

REASON_TEXT: Final[dict[SessionRejectReason, str]] = {
    R.INVALID_TAG_NUMBER: "Invalid tag number",
    R.REQUIRED_TAG_MISSING: "Required tag missing",
    R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE: "Tag not defined for this message type",
    R.UNDEFINED_TAG: "Undefined tag",
    R.TAG_SPECIFIED_WITHOUT_A_VALUE: "Tag specified without a value",
    R.VALUE_IS_INCORRECT: "Value is incorrect (out of range) for this tag",
    R.INCORRECT_DATA_FORMAT_FOR_VALUE: "Incorrect data format for value",
    R.COMP_ID_PROBLEM: "CompID problem",
    R.SENDING_TIME_ACCURACY_PROBLEM: "SendingTime accuracy problem",
    R.INVALID_MSG_TYPE: "Invalid MsgType",
    R.TAG_APPEARS_MORE_THAN_ONCE: "Tag appears more than once",
    R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER: "Tag specified out of required order",
    R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER: "Repeating group fields out of order",
    R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP: (
        "Incorrect NumInGroup count for repeating group"
    ),
}

USER_DEFINED_MIN: Final = 5000
"""Tags from 5000 up are user-defined in FIX 4.4."""


class ValidationError(FixError):
    """Why a received message is invalid, as the Reject (35=3) that answers it.

    Attributes:
        reason: SessionRejectReason (373).
        ref_tag: RefTagID (371), the tag at fault, when there is one.
        ref_msg_type: RefMsgType (372).
        text: a human-readable Text (58).
    """

    def __init__(
        self,
        reason: SessionRejectReason,
        ref_tag: int | None,
        ref_msg_type: str,
        detail: str = "",
    ) -> None:
        text = REASON_TEXT.get(reason, reason.name)
        if ref_tag is not None:
            text += f", field={ref_tag}"
        if detail:
            text += f" ({detail})"
        super().__init__(text)
        self.reason = reason
        self.ref_tag = ref_tag
        self.ref_msg_type = ref_msg_type
        self.text = text

    def reject_fields(self) -> list[tuple[int, object]]:
        """The fields of the suggested Reject after RefSeqNum: 371, 372, 373 and 58."""
        out: list[tuple[int, object]] = []
        if self.ref_tag is not None:
            out.append((Tag.REF_TAG_ID, self.ref_tag))
        if self.ref_msg_type:
            out.append((Tag.REF_MSG_TYPE, self.ref_msg_type))
        out.append((Tag.SESSION_REJECT_REASON, int(self.reason)))
        out.append((Tag.TEXT, self.text))
        return out

    def __repr__(self) -> str:
        return (
            f"ValidationError({self.reason.name}, ref_tag={self.ref_tag}, "
            f"ref_msg_type={self.ref_msg_type!r})"
        )


@dataclass(frozen=True, slots=True)
class ValidationOptions:
    """What to check, with QuickFIX's setting names.

    Attributes:
        fields_out_of_order: ValidateFieldsOutOfOrder: header, body, trailer order (14).
        fields_have_values: ValidateFieldsHaveValues: empty values are rejected (4).
        user_defined_fields: ValidateUserDefinedFields: tags >= 5000 must be in the dictionary.
        allow_unknown_message_fields: AllowUnknownMsgFields: accept known fields that the
            message type does not define (else 2).
    """

    fields_out_of_order: bool = True
    fields_have_values: bool = True
    user_defined_fields: bool = False
    allow_unknown_message_fields: bool = False


# A compiled slot: (section or entry position, format check, allowed values, group, multi).
_Slot = tuple[int, Callable[[bytes], object] | None, frozenset[bytes] | None, GroupDef | None, bool]
_HEADER, _BODY, _TRAILER = 0, 1, 2
_FRAMING: Final = frozenset({b"8", b"9", b"10"})
MAX_SHAPES: Final = 512
"""Compiled message shapes kept per validator (the cache starts over beyond this)."""


def _slot(fdef: FieldDef, position: int, group: GroupDef | None) -> _Slot:
    return (position, fdef.check, fdef.value_keys, group, fdef.is_multiple_value)


class Validator:
    """Validates received messages against a dictionary. Build once, share freely.

    Args:
        dictionary: defaults to the bundled FIX 4.4 dictionary.
        options: what to check; defaults to the strict set.
    """

    def __init__(
        self, dictionary: Dictionary | None = None, options: ValidationOptions | None = None
    ) -> None:
        self.dictionary = dictionary or Dictionary.fix44()
        self.options = options or ValidationOptions()
        self._messages: dict[str, dict[bytes, _Slot]] = {}
        self._entries: dict[int, tuple[dict[bytes, _Slot], int]] = {}
        self._required: dict[str, frozenset[bytes]] = {}
        self._shapes: dict[bytes, Callable[[bytes], object]] = {}

    # -- compiled lookup tables ---------------------------------------------------------------
    def _message_slots(self, msg_type: str) -> dict[bytes, _Slot] | None:
        slots = self._messages.get(msg_type)
        if slots is None:
            mdef = self.dictionary.messages.get(msg_type)
            if mdef is None:
                return None
            d = self.dictionary
            slots = {}
            for section, st in ((_HEADER, d.header), (_BODY, mdef.body), (_TRAILER, d.trailer)):
                for tag in st.fields:
                    key = b"%d" % tag
                    if key not in _FRAMING:
                        slots[key] = _slot(d.fields[tag], section, st.groups.get(tag))
            self._messages[msg_type] = slots
            required = set(d.header.required_keys) | set(mdef.body.required_keys)
            self._required[msg_type] = frozenset(required - _FRAMING)
        return slots

    def _entry_slots(self, gdef: GroupDef) -> tuple[dict[bytes, _Slot], int]:
        """A group entry's compiled slots (by position) and the bitmask of required ones."""
        compiled = self._entries.get(id(gdef))
        if compiled is None:
            st = gdef.entry
            slots = {
                b"%d" % tag: _slot(self.dictionary.fields[tag], pos, st.groups.get(tag))
                for pos, tag in enumerate(st.fields)
            }
            mask = 0
            for pos, tag in enumerate(st.fields):
                if tag in st.required and pos > 0:  # the delimiter starts every entry
                    mask |= 1 << pos
            compiled = self._entries[id(gdef)] = (slots, mask)
        return compiled

    # -- validation ------------------------------------------------------------------------------
    def validate(self, msg: FieldMap) -> ValidationError | None:
        """Check a received message; None when valid, else the Reject to answer with.

        Counterparties send the same few *shapes* (sequences of tags) over and over. The first
        message of a shape is checked field by field; if valid, its shape is compiled into one
        regular expression over the whole frame (literal tags in order, each value's
        enumeration or format, the NumInGroup counts) and later messages of that shape are
        checked by one match. Anything the compiled shape does not accept takes the
        field-by-field path, which names the exact error.
        """
        raw = msg.raw if isinstance(msg, Message) else None
        if raw is None:
            return self._check(msg)
        tags = msg.tag_keys()
        key = SOH.join(tags)
        shape = self._shapes.get(key)
        if shape is not None and shape(raw) is not None:
            return None
        error = self._check(msg)
        if error is None and shape is None:
            if len(self._shapes) >= MAX_SHAPES:
                self._shapes.clear()
            self._shapes[key] = self._compile_shape(tags, msg.raw_values())
        return error

    def _compile_shape(self, tags: list[bytes], values: list[bytes]) -> Callable[[bytes], object]:
        """The fullmatch of a valid message's shape: any frame with these tags in this order,
        the same group counts, and values each of its field's enumeration or format."""
        fields = self.dictionary.fields_by_key
        plus = b"+" if self.options.fields_have_values else b"*"
        parts = [rb"8=[^\x01]+\x019=[0-9]+\x01"]
        for k, v in zip(tags, values):
            fdef = fields.get(k)
            if k == b"35" or (fdef is not None and fdef.type == "NUMINGROUP"):
                value = re.escape(v)
            elif fdef is None or fdef.type == "DATA":
                value = rb"[^\x01]*"
            elif fdef.value_keys:
                one = b"(?:" + b"|".join(map(re.escape, sorted(fdef.value_keys))) + b")"
                value = one + b"(?: " + one + b")*" if fdef.is_multiple_value else one
            elif fdef.type in FORMAT_PATTERNS:
                value = b"(?:" + FORMAT_PATTERNS[fdef.type] + b")"
            else:
                value = rb"[^\x01]" + plus
            if not v and not self.options.fields_have_values:
                value = b"(?:" + value + b")?"
            parts.append(re.escape(k + b"=") + value + rb"\x01")
        parts.append(rb"10=[0-9]{3}\x01")
        return re.compile(b"".join(parts)).fullmatch

    def _check(self, msg: FieldMap) -> ValidationError | None:
        """The field-by-field validation (see `validate`)."""
        tags = msg.tag_keys()
        values = msg.raw_values()
        n = len(tags)
        if n == 0 or tags[0] != b"35":
            return ValidationError(R.REQUIRED_TAG_MISSING, Tag.MSG_TYPE, "")
        msg_type = values[0].decode("latin-1")
        slots = self._message_slots(msg_type)
        if slots is None:
            return ValidationError(R.INVALID_MSG_TYPE, Tag.MSG_TYPE, msg_type)
        opts = self.options
        order = opts.fields_out_of_order
        need_values = opts.fields_have_values
        section = _HEADER
        skip = 0  # fields of a group already checked by _group_at
        spans: list[tuple[int, int]] | None = None  # where groups are, for the duplicate check
        hint = 1
        for k, v in zip(tags, values):
            if skip:
                skip -= 1
                continue
            s = slots.get(k)
            if s is None:
                err = self._not_in_message(k, v, msg_type)
                if err is not None:
                    return err
                continue
            sec, check, allowed, group, multi = s
            if sec < section:
                if order:
                    return ValidationError(R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, int(k), msg_type)
            else:
                section = sec
            if not v:
                if need_values:
                    return ValidationError(R.TAG_SPECIFIED_WITHOUT_A_VALUE, int(k), msg_type)
                continue
            err = _value_error(k, v, check, allowed, multi, msg_type)
            if err is not None:
                return err
            if group is not None:
                first = tags.index(k, hint) + 1
                result = self._walk_group(tags, values, first, group, int(v), msg_type)
                if isinstance(result, ValidationError):
                    return result
                skip = result - first
                hint = result
                if spans is None:
                    spans = []
                spans.append((first, result))
        if spans is None:
            top = tags
        else:
            top = []
            begin = 0
            for first, stop in spans:
                top += tags[begin:first]
                begin = stop
            top += tags[begin:]
        present = set(top)
        if len(present) != len(top):
            seen: set[bytes] = set()
            for k in top:
                if k in seen:
                    return ValidationError(R.TAG_APPEARS_MORE_THAN_ONCE, int(k), msg_type)
                seen.add(k)
        required = self._required[msg_type]
        if not required <= present:
            for rk in sorted(required - present, key=int):
                return ValidationError(R.REQUIRED_TAG_MISSING, int(rk), msg_type)
        return None

    def _not_in_message(self, k: bytes, v: bytes, msg_type: str) -> ValidationError | None:
        """A tag outside the message's layout: invalid, undefined, user-defined or misplaced."""
        if not k.isdigit() or k[:1] == b"0":
            ref = int(k) if k.isdigit() else 0
            return ValidationError(R.INVALID_TAG_NUMBER, ref, msg_type, f"tag {k!r}")
        if k in _FRAMING:  # 8 and 9 open every frame and 10 ends it: anywhere else, misplaced
            if not self.options.fields_out_of_order:
                return None
            return ValidationError(R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, int(k), msg_type)
        tag = int(k)
        fdef = self.dictionary.fields_by_key.get(k)
        if fdef is None:
            if tag >= USER_DEFINED_MIN and not self.options.user_defined_fields:
                return None
            return ValidationError(R.UNDEFINED_TAG, tag, msg_type)
        if self.options.allow_unknown_message_fields:
            return None
        mdef = self.dictionary.messages[msg_type]
        if _in_any_group(mdef.body, tag) or _in_any_group(self.dictionary.header, tag):
            return ValidationError(R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, tag, msg_type)
        return ValidationError(R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE, tag, msg_type)

    def _walk_group(
        self,
        tags: list[bytes],
        values: list[bytes],
        i: int,
        gdef: GroupDef,
        declared: int,
        msg_type: str,
    ) -> int | ValidationError:
        """Validate a group field by field from position i; return the position after it.

        Within an entry, fields must follow the definition's order, so each field's position
        must exceed the previous one's; a bitmask of the positions seen tells a duplicate from
        a field out of order and names a missing required field.
        """
        slots, required_mask = self._entry_slots(gdef)
        delim = gdef.delimiter_key
        need_values = self.options.fields_have_values
        n = len(tags)
        count = 0
        if i < n and tags[i] != delim and tags[i] in slots:
            return ValidationError(R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, int(tags[i]), msg_type)
        while i < n and tags[i] == delim:
            count += 1
            last = -1
            mask = 0
            while i < n:
                k = tags[i]
                s = slots.get(k)
                if s is None:
                    break
                pos, check, allowed, group, multi = s
                if pos <= last:
                    if pos == 0:
                        break  # the next entry
                    reason = (
                        R.TAG_APPEARS_MORE_THAN_ONCE
                        if mask >> pos & 1
                        else R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER
                    )
                    return ValidationError(reason, int(k), msg_type)
                last = pos
                mask |= 1 << pos
                v = values[i]
                i += 1
                if not v:
                    if need_values:
                        return ValidationError(R.TAG_SPECIFIED_WITHOUT_A_VALUE, int(k), msg_type)
                    continue
                err = _value_error(k, v, check, allowed, multi, msg_type)
                if err is not None:
                    return err
                if group is not None:
                    result = self._walk_group(tags, values, i, group, int(v), msg_type)
                    if isinstance(result, ValidationError):
                        return result
                    i = result
            missing = required_mask & ~mask
            if missing:
                position = (missing & -missing).bit_length() - 1
                tag = gdef.entry.fields[position]
                return ValidationError(R.REQUIRED_TAG_MISSING, tag, msg_type)
        if count != declared:
            detail = f"NumInGroup says {declared}, found {count}"
            return ValidationError(
                R.INCORRECT_NUM_IN_GROUP_COUNT_FOR_REPEATING_GROUP, gdef.count_tag, msg_type, detail
            )
        return i


def _value_error(
    k: bytes,
    v: bytes,
    check: Callable[[bytes], object] | None,
    allowed: frozenset[bytes] | None,
    multi: bool,
    msg_type: str,
) -> ValidationError | None:
    """A non-empty value's enumeration and format check (the walk's; compiled shapes do the
    same in one match)."""
    if allowed is not None:
        return None if v in allowed else _bad_value(k, v, check, allowed, multi, msg_type)
    if check is not None and not check(v):
        return ValidationError(R.INCORRECT_DATA_FORMAT_FOR_VALUE, int(k), msg_type)
    return None


def _bad_value(
    k: bytes,
    v: bytes,
    check: Callable[[bytes], object] | None,
    allowed: frozenset[bytes],
    multi: bool,
    msg_type: str,
) -> ValidationError | None:
    """A value outside an enumeration: a format error (6) first, as QuickFIX, else 5."""
    if check is not None and not check(v):
        return ValidationError(R.INCORRECT_DATA_FORMAT_FOR_VALUE, int(k), msg_type)
    if multi and allowed.issuperset(v.split(b" ")):
        return None
    return ValidationError(R.VALUE_IS_INCORRECT, int(k), msg_type)


def _in_any_group(structure: Structure, tag: int) -> bool:
    for g in structure.groups.values():
        if tag in g.entry.fields or _in_any_group(g.entry, tag):
            return True
    return False


def check_comp_ids(
    msg: Message, sender_comp_id: str, target_comp_id: str
) -> ValidationError | None:
    """Reason 9 unless the message comes from our counterparty to us.

    `sender_comp_id` and `target_comp_id` are *ours*: the peer's SenderCompID (49) must be our
    target and its TargetCompID (56) our sender.
    """
    got_sender = msg.get(Tag.SENDER_COMP_ID)
    got_target = msg.get(Tag.TARGET_COMP_ID)
    if got_sender != target_comp_id.encode():
        return ValidationError(R.COMP_ID_PROBLEM, Tag.SENDER_COMP_ID, msg.msg_type)
    if got_target != sender_comp_id.encode():
        return ValidationError(R.COMP_ID_PROBLEM, Tag.TARGET_COMP_ID, msg.msg_type)
    return None


def check_sending_time(
    msg: Message, now: datetime, max_latency: timedelta = timedelta(seconds=120)
) -> ValidationError | None:
    """Reason 10 when SendingTime (52) is missing, malformed or further than `max_latency`
    from `now` (QuickFIX: CheckLatency / MaxLatency)."""
    raw = msg.get(Tag.SENDING_TIME)
    if raw is None:
        return ValidationError(R.REQUIRED_TAG_MISSING, Tag.SENDING_TIME, msg.msg_type)
    try:
        sent = parse_utc_timestamp(raw)
    except ValueError:
        return ValidationError(R.INCORRECT_DATA_FORMAT_FOR_VALUE, Tag.SENDING_TIME, msg.msg_type)
    if abs(now - sent) > max_latency:
        return ValidationError(R.SENDING_TIME_ACCURACY_PROBLEM, Tag.SENDING_TIME, msg.msg_type)
    return None
