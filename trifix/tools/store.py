"""`trifix store ...`: inspect and repair the gateway's LMDB message store.

Commands (a `typer.Typer` sub-application, `store_app`, that `trifix.cli` mounts as ``store``):

* ``seq [SESSION]``: next sender/target sequence numbers and the stored range, per session.
* ``list SESSION``: one line per stored (sent) message; ``dump SESSION``: the messages
  themselves. Both are redacted (the policy of `trifix.observability.redact`) and take
  ``--from/--to/--last``.
* ``set-seq SESSION --sender N --target N``: set the next sequence numbers, in one durable
  transaction, after a confirmation (``--yes`` skips it).
* ``trim SESSION --below SEQ | --keep N | --older-than 7d``: delete old stored messages, after a
  confirmation.

The store is the one the gateway uses: ``--store DIR`` (or ``FIX_STORE_DIR``), else the
``store.path`` of ``--config FILE``, else ``./fixstore`` as for ``trifix run``. Reading takes no
lock (`StoreView`), so ``seq``, ``list`` and ``dump`` work while the gateway runs. Changing a
session takes its lock, so ``set-seq`` and ``trim`` refuse, with a message saying why, while a
gateway drives that session. Exit codes: 0 done, 1 refused or failed, 2 usage errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Final, NoReturn

import typer

from trifix.core.dictionary import Dictionary
from trifix.core.errors import FieldValueError, GarbledMessageError, StoreError, StoreLockedError
from trifix.core.message import SOH, Message
from trifix.core.tags import Tag
from trifix.store import LmdbStore, SessionUpdate
from trifix.store.base import MAX_SEQ
from trifix.tools.decode import Decoded, render_text
from trifix.tools.redact import redact_frame
from trifix.tools.store_view import SessionSummary, StoreView

__all__ = ["store_app"]

store_app = typer.Typer(
    name="store",
    help="Inspect and repair the gateway's message store (sequence numbers, sent messages).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

FAILED: Final = 1
USAGE: Final = 2
DEFAULT_STORE: Final = "fixstore"
_FIX44: Final = Dictionary.fix44()
_DURATION: Final = re.compile(r"([0-9]+)\s*([smhdw])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="DIR",
        envvar="FIX_STORE_DIR",
        help="The store directory. [default: the --config file's store.path, or ./fixstore]",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="Take the store directory from this gateway configuration (store.path).",
        show_default=False,
    ),
]
SessionArg = Annotated[
    str, typer.Argument(metavar="SESSION", help="The session id (as in the configuration).")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
FromOpt = Annotated[
    str | None,
    typer.Option("--from", metavar="SEQ", help="First sequence number.", show_default=False),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", metavar="SEQ", help="Last sequence number.", show_default=False),
]
LastOpt = Annotated[
    str | None,
    typer.Option(
        "--last", metavar="N", help="Only the last N stored messages.", show_default=False
    ),
]


def _fail(command: str, text: str, code: int = FAILED) -> NoReturn:
    typer.echo(f"trifix store {command}: {text}", err=True)
    raise typer.Exit(code)


def parse_seq(text: str, what: str) -> int:
    """A sequence number given on the command line, or ValueError saying what is wrong."""
    value = text.strip()
    if not value.isdigit() or not value.isascii():
        raise ValueError(f"{what} must be a whole number from 1 to {MAX_SEQ}, got {text!r}")
    seq = int(value)
    if not 1 <= seq <= MAX_SEQ:
        raise ValueError(f"{what} must be from 1 to {MAX_SEQ}, got {seq}")
    return seq


def parse_age(text: str) -> timedelta:
    """``"7d"``, ``"12h"``, ``"1d12h"``, ``"90m"``, ``"2w"`` as a timedelta, or ValueError."""
    compact = text.strip().lower()
    pieces = _DURATION.findall(compact)
    if not pieces or "".join(n + u for n, u in pieces) != compact.replace(" ", ""):
        raise ValueError(f"--older-than wants a duration such as 7d, 12h or 1d12h, got {text!r}")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in pieces))


def _seq_option(command: str, text: str | None, what: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_seq(text, what)
    except ValueError as exc:
        _fail(command, str(exc), USAGE)


def resolve_store(command: str, store: str | None, config: str | None) -> Path:
    """The store directory from ``--store``, ``--config`` or the default (see the module doc)."""
    if store:
        return Path(store)
    if config is None:
        return Path(DEFAULT_STORE)
    from trifix.config import ConfigError, load  # here: only --config needs it

    try:
        loaded = load(config)
    except ConfigError as exc:
        _fail(command, f"cannot use {config}: {exc}")
    if loaded.store.path is None:
        _fail(command, f"{config} keeps the store in memory (store.path: null): nothing on disk")
    return Path(loaded.store.path)


def _view(command: str, path: Path) -> StoreView:
    try:
        return StoreView(path)
    except StoreError as exc:
        _fail(command, str(exc))


# -- seq -------------------------------------------------------------------------------------
@store_app.command("seq")
def seq_command(
    session: Annotated[
        str | None,
        typer.Argument(metavar="[SESSION]", help="One session; none shows every session."),
    ] = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show the next sender and target sequence numbers and the range of stored messages."""
    path = resolve_store("seq", store, config)
    with _view("seq", path) as view:
        try:
            ids = [session] if session is not None else view.session_ids()
            rows = [view.summary(sid) for sid in ids]
        except StoreError as exc:
            _fail("seq", str(exc))
    if not rows:
        typer.echo(f"store {path} has no sessions")
        return
    typer.echo(_summary_table(rows))


def _summary_table(rows: list[SessionSummary]) -> str:
    header = ("session", "next sender", "next target", "stored messages", "created (UTC)")
    cells = [header]
    for row in rows:
        s = row.sequences
        stored = "none" if row.first_stored is None else f"{row.first_stored}..{row.last_stored}"
        created = s.creation_time.strftime("%Y-%m-%d %H:%M:%S")
        cells.append(
            (row.session_id, str(s.next_sender_seq), str(s.next_target_seq), stored, created)
        )
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )


# -- list / dump -----------------------------------------------------------------------------
def _selected(
    command: str,
    view: StoreView,
    session: str,
    first: str | None,
    last_seq: str | None,
    last: str | None,
) -> Iterator[tuple[int, bytes]]:
    begin = _seq_option(command, first, "--from") or 1
    end = _seq_option(command, last_seq, "--to") or 0
    count = _seq_option(command, last, "--last")
    if end and end < begin:
        _fail(command, f"--to {end} is below --from {begin}", USAGE)
    try:
        if count is not None:
            summary = view.summary(session)
            top = end or summary.last_stored or 0
            begin = max(begin, top - count + 1)
        return view.messages(session, begin, end)
    except StoreError as exc:
        _fail(command, str(exc))


@store_app.command("list")
def list_command(
    session: SessionArg,
    first: FromOpt = None,
    last_seq: ToOpt = None,
    last: LastOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List stored (sent) messages, one line each: seq, SendingTime, type, key fields."""
    path = resolve_store("list", store, config)
    with _view("list", path) as view:
        shown = 0
        for seq, raw in _selected("list", view, session, first, last_seq, last):
            typer.echo(_list_line(seq, raw))
            shown += 1
    typer.echo(f"{shown} message{'' if shown == 1 else 's'}")


def _list_line(seq: int, raw: bytes) -> str:
    try:
        msg = Message.from_frame(redact_frame(raw))
    except GarbledMessageError:
        return f"{seq:>8}  (not a FIX frame: {len(raw)} bytes)"
    mdef = _FIX44.messages.get(msg.msg_type)
    name = f"{mdef.name if mdef else 'Unknown'} ({msg.msg_type})"
    sent = msg.get_str(Tag.SENDING_TIME, "?")
    keys = [
        f"{_FIX44.fields[tag].name}={msg[tag].decode('utf-8', 'replace')}"
        for tag in (Tag.CL_ORD_ID, Tag.SYMBOL, Tag.MD_REQ_ID, Tag.TEXT)
        if tag in msg
    ]
    return f"{seq:>8}  {sent}  {name:<34} {' '.join(keys)}".rstrip()


@store_app.command("dump")
def dump_command(
    session: SessionArg,
    first: FromOpt = None,
    last_seq: ToOpt = None,
    last: LastOpt = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="pipe|soh|decoded",
            help="pipe: one message a line with '|'; soh: as on the wire (for trifix decode -); "
            "decoded: field names and meanings.",
        ),
    ] = "pipe",
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Print stored (sent) messages, redacted: Password, NewPassword and RawData removed,
    Account masked, Text sanitised."""
    if fmt not in ("pipe", "soh", "decoded"):
        _fail("dump", f"--format must be pipe, soh or decoded, got {fmt!r}", USAGE)
    path = resolve_store("dump", store, config)
    with _view("dump", path) as view:
        for index, (seq, raw) in enumerate(
            _selected("dump", view, session, first, last_seq, last), 1
        ):
            frame = redact_frame(raw)
            if fmt == "soh":
                typer.echo(frame.decode("latin-1"))
            elif fmt == "pipe":
                typer.echo(frame.replace(SOH, b"|").decode("utf-8", "replace"))
            else:
                typer.echo(_decoded(index, seq, frame), nl=False)


def _decoded(index: int, seq: int, frame: bytes) -> str:
    try:
        msg = Message.from_frame(frame)
    except GarbledMessageError:
        return f"#{index}  seq {seq}: not a FIX frame\n  {frame!r}\n"
    return render_text(Decoded(index, f"stored seq {seq}", message=msg))


# -- set-seq / trim: they change the store --------------------------------------------------
def _open_for_change(command: str, path: Path, session: str) -> tuple[LmdbStore, SessionSummary]:
    """The store with `session` open (locked) and the session's summary, or a refusal."""
    with _view(command, path) as view:
        try:
            summary = view.summary(session)  # never create a session by mistyping its id
        except StoreError as exc:
            _fail(command, str(exc))
    try:
        lmdb_store = LmdbStore(path)
    except StoreError as exc:
        _fail(command, str(exc))
    try:
        lmdb_store.open_session(session, datetime.now(UTC))
    except StoreLockedError:
        lmdb_store.close()
        _fail(
            command,
            f"session {session!r} is in use by a running gateway (store {path}); "
            f"stop the gateway, or at least that session, then run this again. "
            f"Reading works meanwhile: trifix store seq {session}",
        )
    except StoreError as exc:  # pragma: no cover - the view has just read the same store
        lmdb_store.close()
        _fail(command, str(exc))
    return lmdb_store, summary


def _confirm(command: str, question: str, yes: bool) -> None:
    if yes:
        return
    if not typer.confirm(question, default=False):
        _fail(command, "nothing changed")


@store_app.command("set-seq")
def set_seq_command(
    session: SessionArg,
    sender: Annotated[
        str | None,
        typer.Option("--sender", metavar="SEQ", help="Next MsgSeqNum we send.", show_default=False),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            metavar="SEQ",
            help="Next MsgSeqNum we expect from the counterparty.",
            show_default=False,
        ),
    ] = None,
    yes: YesOpt = False,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Set the next sender and/or target sequence number of a stopped session.

    Both change in one durable transaction: after a crash either both or neither changed.
    Agree the numbers with the counterparty first: a sender number below what it expects makes
    it log out (MsgSeqNum too low), and a target number above what it sends skips messages.
    """
    new_sender = _seq_option("set-seq", sender, "--sender")
    new_target = _seq_option("set-seq", target, "--target")
    if new_sender is None and new_target is None:
        _fail("set-seq", "give --sender SEQ, --target SEQ, or both", USAGE)
    path = resolve_store("set-seq", store, config)
    lmdb_store, summary = _open_for_change("set-seq", path, session)
    with lmdb_store:
        now = lmdb_store.sequences(session)
        last_sent = summary.last_stored
        lines = [f"session {session!r} in store {path}:"]
        if new_sender is not None:
            lines.append(f"  next sender seq {now.next_sender_seq} -> {new_sender}")
            if last_sent is not None and new_sender <= last_sent:
                lines.append(
                    f"  warning: messages up to seq {last_sent} are stored; the counterparty "
                    f"will see MsgSeqNum {new_sender} as too low unless it resets as well"
                )
        if new_target is not None:
            lines.append(f"  next target seq {now.next_target_seq} -> {new_target}")
            if new_target > now.next_target_seq:
                lines.append(
                    f"  warning: messages {now.next_target_seq}..{new_target - 1} from the "
                    "counterparty will never be asked for again"
                )
        typer.echo("\n".join(lines))
        _confirm("set-seq", "Change the sequence numbers?", yes)
        lmdb_store.write(
            [SessionUpdate(session, next_sender_seq=new_sender, next_target_seq=new_target)]
        )
        done = lmdb_store.sequences(session)
    typer.echo(
        f"done: next sender seq {done.next_sender_seq}, next target seq {done.next_target_seq}"
    )


@store_app.command("trim")
def trim_command(
    session: SessionArg,
    below: Annotated[
        str | None,
        typer.Option(
            "--below",
            metavar="SEQ",
            help="Delete messages with a lower sequence number.",
            show_default=False,
        ),
    ] = None,
    keep: Annotated[
        str | None,
        typer.Option(
            "--keep", metavar="N", help="Keep only the last N messages.", show_default=False
        ),
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="Delete messages sent longer ago than AGE (7d, 12h, 1d12h, 90m, 2w).",
            show_default=False,
        ),
    ] = None,
    yes: YesOpt = False,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Delete old stored messages of a stopped session (one transaction).

    A ResendRequest for a deleted message is answered with a SequenceReset-GapFill, so trim
    only what the counterparty can no longer ask for (typically before the last logon).
    """
    given = [o for o in (below, keep, older_than) if o is not None]
    if len(given) != 1:
        _fail("trim", "give exactly one of --below SEQ, --keep N, --older-than AGE", USAGE)
    cutoff_age = None
    if older_than is not None:
        try:
            cutoff_age = parse_age(older_than)
        except ValueError as exc:
            _fail("trim", str(exc), USAGE)
    below_seq = _seq_option("trim", below, "--below")
    keep_count = _seq_option("trim", keep, "--keep")
    path = resolve_store("trim", store, config)
    lmdb_store, _summary = _open_for_change("trim", path, session)
    with lmdb_store:
        stored = [seq for seq, _raw in lmdb_store.get_range(session, 1, 0)]
        if keep_count is not None:
            below_seq = stored[-keep_count] if len(stored) >= keep_count else 1
        elif cutoff_age is not None:
            below_seq = _first_newer(lmdb_store, session, datetime.now(UTC) - cutoff_age)
        assert below_seq is not None
        doomed = sum(1 for seq in stored if seq < below_seq)
        if doomed == 0:
            typer.echo(
                f"session {session!r}: no stored message below seq {below_seq}; nothing to do"
            )
            return
        typer.echo(
            f"session {session!r} in store {path}: delete {doomed} stored message"
            f"{'' if doomed == 1 else 's'} (seq {stored[0]}..{below_seq - 1}), keep "
            f"{len(stored) - doomed}"
        )
        _confirm("trim", "Delete them?", yes)
        deleted = lmdb_store.trim(session, below_seq)
    typer.echo(f"done: deleted {deleted} message{'' if deleted == 1 else 's'}")


def _first_newer(lmdb_store: LmdbStore, session: str, cutoff: datetime) -> int:
    """The first stored seq sent at or after `cutoff` (one past the last if none is)."""
    last = 0
    for seq, raw in lmdb_store.get_range(session, 1, 0):
        last = seq
        try:
            sent = Message.from_frame(raw).get_utc_timestamp(Tag.SENDING_TIME)
        except (GarbledMessageError, FieldValueError):
            continue  # no readable SendingTime: judged with its neighbours
        if sent >= cutoff:
            return seq
    return last + 1
