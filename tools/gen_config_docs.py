#!/usr/bin/env python3
"""Generate docs/config-reference.md: every configuration key, its type, default and QuickFIX name.

Usage:
    python tools/gen_config_docs.py            # write docs/config-reference.md
    python tools/gen_config_docs.py --check    # exit 1 if the committed file is out of date

Keys, types and defaults are read from the attrs classes of `trifix.config.schema`, so the page
follows the schema. The QuickFIX equivalent of each key is the `QUICKFIX` table below; the
generator fails when the schema has a key the table does not name (or the table names a key the
schema lost), so a new option cannot be left out. docs/configuration.md explains each key.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import attrs

from trifix.config import schema

ROOT: Final = Path(__file__).resolve().parent.parent
OUT: Final = ROOT / "docs" / "config-reference.md"
NONE: Final = "—"

# QuickFIX (C++/Python) names unless marked /J (QuickFIX/J) or /Go (QuickFIX/Go).
QUICKFIX: Final[dict[str, str]] = {
    "sessions[].id": "— (QuickFIX names a session BeginString:SenderCompID->TargetCompID)",
    "sessions[].sender_comp_id": "SenderCompID",
    "sessions[].target_comp_id": "TargetCompID",
    "sessions[].name": NONE,
    "sessions[].enabled": NONE,
    "sessions[].role": "ConnectionType",
    "sessions[].host": "SocketConnectHost",
    "sessions[].port": "SocketConnectPort",
    "sessions[].hosts[].host": "SocketConnectHost1..n",
    "sessions[].hosts[].port": "SocketConnectPort1..n",
    "sessions[].username": "— (set in toAdmin)",
    "sessions[].password": "— (set in toAdmin)",
    "sessions[].trading_account": NONE,
    "sessions[].ssl.ca_file": "SocketCAFile (/Go)",
    "sessions[].ssl.cert_file": "SocketCertificateFile (/Go)",
    "sessions[].ssl.key_file": "SocketPrivateKeyFile (/Go)",
    "sessions[].ssl.verify": "SocketInsecureSkipVerify (/Go, inverted)",
    "sessions[].ssl.server_hostname": "SocketServerName (/Go)",
    "sessions[].heartbeat_interval": "HeartBtInt",
    "sessions[].reconnection.max_attempts": NONE,
    "sessions[].reconnection.initial_delay": "ReconnectInterval",
    "sessions[].reconnection.max_delay": NONE,
    "sessions[].reconnection.backoff_factor": NONE,
    "sessions[].reconnection.jitter": NONE,
    "sessions[].reconnection.reset_on_success": NONE,
    "sessions[].trading_hours.timezone": "TimeZone",
    "sessions[].trading_hours.open_time": "StartTime",
    "sessions[].trading_hours.close_time": "EndTime",
    "sessions[].trading_hours.days_of_week": "Weekdays (/J)",
    "sessions[].trading_hours.weekly.start_day": "StartDay",
    "sessions[].trading_hours.weekly.start_time": "StartTime",
    "sessions[].trading_hours.weekly.end_day": "EndDay",
    "sessions[].trading_hours.weekly.end_time": "EndTime",
    "sessions[].trading_hours.non_stop": "NonStopSession",
    "sessions[].trading_hours.holidays": NONE,
    "sessions[].limits.max_orders_per_second": NONE,
    "sessions[].limits.burst": NONE,
    "sessions[].limits.max_subscriptions": NONE,
    "sessions[].limits.on_limit": NONE,
    "sessions[].fix.reset_on_logon": "ResetOnLogon",
    "sessions[].fix.reset_on_logout": "ResetOnLogout",
    "sessions[].fix.reset_on_disconnect": "ResetOnDisconnect",
    "sessions[].fix.refresh_on_logon": "RefreshOnLogon",
    "sessions[].fix.persist_messages": "PersistMessages",
    "sessions[].fix.resend_request_chunk_size": "ResendRequestChunkSize",
    "sessions[].fix.send_redundant_resend_requests": "SendRedundantResendRequests",
    "sessions[].fix.resend_request_timeout": NONE,
    "sessions[].fix.check_latency": "CheckLatency",
    "sessions[].fix.max_latency": "MaxLatency (seconds)",
    "sessions[].fix.logon_timeout": "LogonTimeout (seconds)",
    "sessions[].fix.logout_timeout": "LogoutTimeout (seconds)",
    "sessions[].fix.check_comp_id": "CheckCompID",
    "sessions[].fix.enable_last_msg_seq_num_processed": "EnableLastMsgSeqNumProcessed",
    "sessions[].fix.enable_next_expected_msg_seq_num": "EnableNextExpectedMsgSeqNum (/J)",
    "sessions[].fix.test_request_delay_multiplier": "TestRequestDelayMultiplier (/J)",
    "sessions[].fix.validate": "UseDataDictionary",
    "sessions[].fix.validation.fields_out_of_order": "ValidateFieldsOutOfOrder",
    "sessions[].fix.validation.fields_have_values": "ValidateFieldsHaveValues",
    "sessions[].fix.validation.user_defined_fields": "ValidateUserDefinedFields",
    "sessions[].fix.validation.allow_unknown_message_fields": "AllowUnknownMsgFields",
    "sessions[].fix.supported_app_msg_types": NONE,
    "sessions[].fix.max_stashed_messages": NONE,
    "sessions[].fix.timestamp_precision": "TimeStampPrecision (/J), MillisecondsInTimeStamp",
    "store.path": "FileStorePath",
    "store.sync": "FileStoreSync (/J)",
    "listen.port": "SocketAcceptPort",
    "listen.host": "SocketAcceptAddress",
    "listen.tls.ca_file": "SocketCAFile (/Go)",
    "listen.tls.cert_file": "SocketCertificateFile (/Go)",
    "listen.tls.key_file": "SocketPrivateKeyFile (/Go)",
    "listen.tls.verify": "SocketInsecureSkipVerify (/Go, inverted)",
    "listen.tls.server_hostname": "SocketServerName (/Go)",
    "log_level": NONE,
    "metrics.enabled": NONE,
    "metrics.port": NONE,
}

TRIFIX_ONLY: Final = "— (trifix only: QuickFIX is a session engine without a trading gateway)"
NO_QUICKFIX_BLOCKS: Final = ("trading.", "web.")
"""Blocks of settings QuickFIX has nothing like; their keys need no entry in `QUICKFIX`."""

_SECTIONS: Final = {  # the heading of docs/configuration.md that explains a block
    "sessions[].ssl": "ssl-and-listentls",
    "listen.tls": "ssl-and-listentls",
    "sessions[].reconnection": "reconnection",
    "sessions[].trading_hours": "trading_hours",
    "sessions[].limits": "limits",
    "sessions[].fix": "fix-session-layer-options",
    "sessions[]": "sessions",
    "trading.lps[].instruments[]": "trading",
    "trading.lps[].breaker": "trading",
    "trading.lps[]": "trading",
    "web": "web",
}


def _leaf_type(tp: Any) -> str:
    """A type as the YAML author writes it."""
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin is tuple:
        return f"list of {_leaf_type(args[0])}"
    if args:  # X | None
        inner = [a for a in args if a is not type(None)]
        text = " or ".join(_leaf_type(a) for a in inner)
        return f"{text} or `null`" if len(inner) < len(args) else text
    names = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        timedelta: "duration",
        Decimal: "decimal (a number, or quoted for an exact price)",
    }
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _default(value: Any) -> str:
    if value is attrs.NOTHING:
        return "required"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return f"`{seconds:g}s`"
    if isinstance(value, tuple):
        return "`[]`" if not value else f"`{list(value)}`"
    return f"`{value}`"


def _nested(tp: Any) -> tuple[type | None, bool]:
    """The attrs class inside a field's type, and whether it is a list of them."""
    candidates = (tp,) if typing.get_origin(tp) is tuple else typing.get_args(tp) or (tp,)
    for arg in candidates:
        if attrs.has(arg):
            return arg, False
        if typing.get_origin(arg) is tuple and attrs.has(typing.get_args(arg)[0]):
            return typing.get_args(arg)[0], True
    return None, False


def keys(cl: type = schema.GatewayConfig, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """(dotted key, type, default) of every leaf key under `cl`, in schema order."""
    hints = typing.get_type_hints(cl)
    for field in attrs.fields(cl):
        nested, many = _nested(hints[field.name])
        if nested is not None:
            yield from keys(nested, f"{prefix}{field.name}{'[]' if many else ''}.")
            continue
        yield f"{prefix}{field.name}", _leaf_type(hints[field.name]), _default(field.default)


def _section(key: str) -> str:
    for block, anchor in _SECTIONS.items():
        if key.startswith(block + "."):
            return anchor
    return "top-level"


def render() -> str:
    """The whole page; raises SystemExit when `QUICKFIX` and the schema disagree."""
    rows = list(keys())
    names = [k for k, _t, _d in rows]
    missing = [k for k in names if k not in QUICKFIX and not k.startswith(NO_QUICKFIX_BLOCKS)]
    stale = [k for k in QUICKFIX if k not in names]
    if missing or stale:
        raise SystemExit(f"QUICKFIX table: missing {missing}, not in the schema {stale}")
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by tools/gen_config_docs.py from trifix/config/schema.py: do not edit. -->",
        "",
        "Every key of the gateway's YAML file, with its type, its default and the closest "
        "QuickFIX setting. [Configuration](configuration.md) explains what each one does, "
        "`${ENV}` substitution and the `FIX_*` overrides. `sessions[]` is each item of the "
        "`sessions` list. QuickFIX names are those of QuickFIX (C++ and Python) unless marked "
        "/J (QuickFIX/J) or /Go (QuickFIX/Go); — means QuickFIX has no such setting.",
        "",
        "| key | type | default | QuickFIX | explained in |",
        "|---|---|---|---|---|",
    ]
    for key, tp, default in rows:
        anchor = _section(key)
        lines.append(
            f"| `{key}` | {tp} | {default} | {QUICKFIX.get(key, TRIFIX_ONLY)} | "
            f"[{anchor.replace('-', ' ')}](configuration.md#{anchor}) |"
        )
    lines += [
        "",
        "`sessions[].ssl` may also be `true` (verify against the system's CA bundle) or "
        "`false`. Durations are written `500ms`, `1s`, `2m`, `1h` or as a number of seconds; "
        'times are quoted (`"17:00"`).',
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if argv[1:] == ["--check"]:
        current = OUT.read_text("utf-8") if OUT.exists() else ""
        if current != text:
            sys.stderr.write(f"{OUT} is out of date: run python tools/gen_config_docs.py\n")
            return 1
        return 0
    OUT.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
