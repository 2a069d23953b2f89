"""`trifix store ...` through its own Typer app, on a real LMDB store."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.store._crash_child import child_env
from tests.tools.conftest import T0, order
from trifix.core.errors import StoreError
from trifix.core.message import SOH, Message
from trifix.core.tags import Tag
from trifix.store import LmdbStore, SessionUpdate
from trifix.tools.store import parse_age, parse_seq, store_app
from trifix.tools.store_view import StoreView

app = typer.Typer()
app.add_typer(store_app)
HOLDER = Path(__file__).with_name("_hold_session.py")


def run(*args: str | Path, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["store", *map(str, args)], input=input)
    return result.exit_code, result.stdout, result.stderr


def sequences(path: Path, sid: str = "LP1") -> tuple[int, int]:
    with StoreView(path) as view:
        s = view.sequences(sid)
    return s.next_sender_seq, s.next_target_seq


# -- reading ---------------------------------------------------------------------------------
def test_seq_shows_every_session(store_dir: Path) -> None:
    code, out, _ = run("seq", "--store", store_dir)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "session",
        "next",
        "sender",
        "next",
        "target",
        "stored",
        "messages",
        "created",
        "(UTC)",
    ]
    assert lines[1].split()[:4] == ["LP1", "11", "7", "1..10"]
    assert lines[2].split()[:4] == ["LP2", "1", "1", "none"]
    assert "2026-11-20 09:00:00" in lines[1]


def test_seq_of_one_session_and_of_an_unknown_one(store_dir: Path) -> None:
    code, out, _ = run("seq", "LP2", "--store", store_dir)
    assert code == 0
    assert len(out.splitlines()) == 2
    code, _, err = run("seq", "LPX", "--store", store_dir)
    assert code == 1
    assert "has no session 'LPX' (sessions: LP1, LP2)" in err


def test_a_missing_store_is_reported_not_created(tmp_path: Path) -> None:
    code, _, err = run("seq", "--store", tmp_path / "nowhere")
    assert code == 1
    assert "no store at" in err
    assert "does not exist" in err
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "empty").mkdir()
    code, _, err = run("seq", "--store", tmp_path / "empty")
    assert code == 1
    assert "is not a trifix store" in err


def test_an_empty_store_says_so(tmp_path: Path) -> None:
    LmdbStore(tmp_path / "s").close()
    code, out, _ = run("seq", "--store", tmp_path / "s")
    assert code == 0
    assert "has no sessions" in out


def test_the_store_comes_from_the_configuration(store_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        f"store: {{path: {store_dir}}}\n"
        "sessions:\n  - {id: LP1, host: 127.0.0.1, port: 9876, sender_comp_id: GW, "
        "target_comp_id: LP1}\n"
    )
    code, out, _ = run("seq", "LP1", "--config", config)
    assert code == 0
    assert "LP1" in out
    memory = tmp_path / "memory.yaml"
    memory.write_text(config.read_text().replace(f"{{path: {store_dir}}}", "{path: null}"))
    code, _, err = run("seq", "--config", memory)
    assert code == 1
    assert "keeps the store in memory" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("sessions: []\n")
    code, _, err = run("seq", "--config", bad)
    assert code == 1
    assert "cannot use" in err
    assert "no sessions" in err


def test_the_default_store_is_fixstore(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(store_dir.parent)
    monkeypatch.delenv("FIX_STORE_DIR", raising=False)
    code, out, _ = run("seq")
    assert code == 0
    assert "LP1" in out


def test_list_is_one_redacted_line_per_message(store_dir: Path) -> None:
    code, out, _ = run("list", "LP1", "--store", store_dir)
    assert code == 0
    lines = out.splitlines()
    assert lines[-1] == "10 messages"
    assert lines[0].split()[:3] == ["1", "20261120-09:00:00.000", "Logon"]
    assert "NewOrderSingle (D)" in lines[1]
    assert "ClOrdID=ORD-2" in lines[1]
    assert "Symbol=EURUSD" in lines[1]
    assert "Text=note?forged line" in lines[1]
    assert "hunter2" not in out


def test_list_ranges(store_dir: Path) -> None:
    _, out, _ = run("list", "LP1", "--from", "3", "--to", "5", "--store", store_dir)
    assert [line.split()[0] for line in out.splitlines()[:-1]] == ["3", "4", "5"]
    _, out, _ = run("list", "LP1", "--last", "2", "--store", store_dir)
    assert [line.split()[0] for line in out.splitlines()[:-1]] == ["9", "10"]
    _, out, _ = run("list", "LP1", "--last", "2", "--to", "4", "--store", store_dir)
    assert [line.split()[0] for line in out.splitlines()[:-1]] == ["3", "4"]
    _, out, _ = run("list", "LP2", "--last", "2", "--store", store_dir)
    assert out == "0 messages\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "abc"), "--from must be a whole number"),
        (("--from", "0"), "--from must be from 1"),
        (("--to", "-3"), "--to must be a whole number"),
        (("--from", "5", "--to", "4"), "--to 4 is below --from 5"),
        (("--last", "1.5"), "--last must be a whole number"),
    ],
)
def test_bad_ranges_are_usage_errors(store_dir: Path, args: tuple[str, ...], message: str) -> None:
    code, _, err = run("list", "LP1", *args, "--store", store_dir)
    assert code == 2
    assert message in err


def test_an_unknown_session_is_an_error_for_list(store_dir: Path) -> None:
    code, _, err = run("list", "NOPE", "--store", store_dir)
    assert code == 1
    assert "no session 'NOPE'" in err


def test_dump_formats_are_redacted(store_dir: Path) -> None:
    code, out, _ = run("dump", "LP1", "--to", "2", "--store", store_dir)
    assert code == 0
    logon_line, order_line = out.splitlines()
    assert logon_line.startswith("8=FIX.4.4|9=")
    assert "554=" not in logon_line
    assert "|1=***53|" in order_line
    assert "hunter2" not in out
    _, soh, _ = run(
        "dump", "LP1", "--from", "2", "--to", "2", "--format", "soh", "--store", store_dir
    )
    msg = Message.from_frame(soh.rstrip("\n").encode("latin-1"))
    assert msg.get_str(Tag.ACCOUNT) == "***53"
    assert msg.encode() == soh.rstrip("\n").encode("latin-1")  # a valid frame
    _, decoded, _ = run("dump", "LP1", "--last", "1", "--format", "decoded", "--store", store_dir)
    assert decoded.startswith("#1  NewOrderSingle (D)  seq=10  GW -> LP1  [stored seq 10]")
    assert "Account" in decoded
    assert "***53" in decoded
    code, _, err = run("dump", "LP1", "--format", "xml", "--store", store_dir)
    assert code == 2
    assert "--format must be pipe, soh or decoded" in err


def test_dump_and_list_show_a_corrupt_record_safely(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with LmdbStore(path) as store:
        store.open_session("X", T0)
        store.write([SessionUpdate("X", [(1, b"35=A" + SOH + b"554=pw" + SOH)])])
    _, out, _ = run("list", "X", "--store", path)
    assert "(not a FIX frame: 12 bytes)" in out
    _, out, _ = run("dump", "X", "--format", "decoded", "--store", path)
    assert "seq 1: not a FIX frame" in out
    assert "pw" not in out


# -- changing ------------------------------------------------------------------------------
def test_set_seq_asks_first_and_changes_both_at_once(store_dir: Path) -> None:
    code, out, err = run(
        "set-seq", "LP1", "--sender", "20", "--target", "9", "--store", store_dir, input="n\n"
    )
    assert code == 1
    assert "nothing changed" in err
    assert "next sender seq 11 -> 20" in out
    assert "next target seq 7 -> 9" in out
    assert "messages 7..8 from the counterparty will never be asked for again" in out
    assert sequences(store_dir) == (11, 7)
    code, out, _ = run(
        "set-seq", "LP1", "--sender", "20", "--target", "9", "--store", store_dir, input="y\n"
    )
    assert code == 0
    assert "done: next sender seq 20, next target seq 9" in out
    assert sequences(store_dir) == (20, 9)


def test_set_seq_warns_when_the_sender_seq_goes_back(store_dir: Path) -> None:
    code, out, _ = run("set-seq", "LP1", "--sender", "5", "--yes", "--store", store_dir)
    assert code == 0
    assert "messages up to seq 10 are stored" in out
    assert "too low" in out
    assert sequences(store_dir) == (5, 7)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --sender SEQ, --target SEQ, or both"),
        (("--sender", "0"), "--sender must be from 1"),
        (("--sender", "ten"), "--sender must be a whole number"),
        (("--target", "-1"), "--target must be a whole number"),
        (("--target", str(2**64)), "--target must be from 1 to"),
    ],
)
def test_set_seq_refuses_nonsense(store_dir: Path, args: tuple[str, ...], message: str) -> None:
    code, _, err = run("set-seq", "LP1", *args, "--yes", "--store", store_dir)
    assert code == 2
    assert message in err
    assert sequences(store_dir) == (11, 7)


def test_set_seq_never_creates_a_session(store_dir: Path) -> None:
    code, _, err = run("set-seq", "LP9", "--sender", "3", "--yes", "--store", store_dir)
    assert code == 1
    assert "no session 'LP9'" in err
    with StoreView(store_dir) as view:
        assert view.session_ids() == ["LP1", "LP2"]


@pytest.fixture
def running_gateway(store_dir: Path) -> Iterator[None]:
    """Another process holds session LP1 open, as a running gateway does."""
    with subprocess.Popen(
        [sys.executable, str(HOLDER), str(store_dir), "LP1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=child_env(),
    ) as child:
        assert child.stdout is not None
        assert child.stdin is not None
        assert child.stdout.readline() == b"ready\n"
        yield
        child.stdin.close()
        assert child.wait(timeout=10) == 0


def test_reading_works_and_changing_is_refused_while_a_gateway_runs(
    store_dir: Path, running_gateway: None
) -> None:
    code, out, _ = run("seq", "LP1", "--store", store_dir)
    assert code == 0
    assert "1..10" in out
    code, out, _ = run("dump", "LP1", "--last", "1", "--store", store_dir)
    assert code == 0
    assert "ORD-10" in out
    for args in (("set-seq", "LP1", "--sender", "2"), ("trim", "LP1", "--below", "5")):
        code, _, err = run(*args, "--yes", "--store", store_dir)
        assert code == 1
        assert "session 'LP1' is in use by a running gateway" in err
        assert "Traceback" not in err
    assert sequences(store_dir) == (11, 7)
    # Another session of the same store can still be changed.
    code, _, _ = run("set-seq", "LP2", "--target", "4", "--yes", "--store", store_dir)
    assert code == 0
    assert sequences(store_dir, "LP2") == (1, 4)


def stored(path: Path) -> list[int]:
    with StoreView(path) as view:
        return [seq for seq, _ in view.messages("LP1")]


def test_trim_below_a_seq_after_confirmation(store_dir: Path) -> None:
    code, out, err = run("trim", "LP1", "--below", "4", "--store", store_dir, input="n\n")
    assert code == 1
    assert "nothing changed" in err
    assert "delete 3 stored messages (seq 1..3), keep 7" in out
    assert stored(store_dir) == list(range(1, 11))
    code, out, _ = run("trim", "LP1", "--below", "4", "--store", store_dir, input="y\n")
    assert code == 0
    assert "done: deleted 3 messages" in out
    assert stored(store_dir) == list(range(4, 11))
    code, out, _ = run("trim", "LP1", "--below", "4", "--yes", "--store", store_dir)
    assert code == 0
    assert "nothing to do" in out


def test_trim_keeping_the_last_n(store_dir: Path) -> None:
    code, _, _ = run("trim", "LP1", "--keep", "3", "--yes", "--store", store_dir)
    assert code == 0
    assert stored(store_dir) == [8, 9, 10]
    code, out, _ = run("trim", "LP1", "--keep", "30", "--yes", "--store", store_dir)
    assert code == 0
    assert "nothing to do" in out


def test_trim_by_age_reads_sending_time(tmp_path: Path) -> None:
    # Orders 1..10 sent 10..1 days ago, in order; seq 3 has no readable SendingTime.
    path = tmp_path / "s"
    now = datetime.now(UTC)
    with LmdbStore(path) as store:
        store.open_session("LP1", T0)
        messages = [(seq, order(seq, now - timedelta(days=11 - seq))) for seq in range(1, 11)]
        messages[2] = (3, b"not a frame")
        store.write([SessionUpdate("LP1", messages)])
    code, out, _ = run("trim", "LP1", "--older-than", "4d12h", "--yes", "--store", path)
    assert code == 0, out
    assert stored(path) == [7, 8, 9, 10]
    code, _, _ = run("trim", "LP1", "--older-than", "1h", "--yes", "--store", path)
    assert code == 0
    assert stored(path) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of"),
        (("--below", "3", "--keep", "2"), "give exactly one of"),
        (("--older-than", "soon"), "--older-than wants a duration"),
        (("--keep", "0"), "--keep must be from 1"),
    ],
)
def test_trim_refuses_nonsense(store_dir: Path, args: tuple[str, ...], message: str) -> None:
    code, _, err = run("trim", "LP1", *args, "--yes", "--store", store_dir)
    assert code == 2
    assert message in err
    assert len(stored(store_dir)) == 10


def test_parsers() -> None:
    assert parse_seq(" 42 ", "x") == 42
    with pytest.raises(ValueError, match="x must be a whole number"):
        parse_seq("\uff14\uff12", "x")  # non-ASCII digits are not sequence numbers
    assert parse_age("1d12h").total_seconds() == 36 * 3600
    assert parse_age("2w").days == 14
    assert parse_age("90m").total_seconds() == 5400
    assert parse_age("30s").total_seconds() == 30
    with pytest.raises(ValueError, match="duration"):
        parse_age("7 days")


def test_the_view_and_lmdb_store_agree_on_the_layout(store_dir: Path) -> None:
    with LmdbStore(store_dir) as store:
        store.open_session("LP1", T0)
        expected = list(store.get_range("LP1", 1, 0))
        seqs = store.sequences("LP1")
    with StoreView(store_dir) as view:
        assert list(view.messages("LP1")) == expected
        assert list(view.messages("LP1", 3, 4)) == expected[2:4]
        assert view.sequences("LP1") == seqs
        assert view.summary("LP1").last_stored == 10
        assert view.summary("LP2").first_stored is None


def test_the_view_reports_what_it_cannot_read(store_dir: Path, tmp_path: Path) -> None:
    import lmdb

    with LmdbStore(store_dir), pytest.raises(StoreError, match="already open in this process"):
        StoreView(store_dir)
    other = tmp_path / "other"
    lmdb.open(str(other)).close()  # an LMDB environment, but not a trifix store
    with pytest.raises(StoreError, match="is not a trifix store"):
        StoreView(other)
    not_lmdb = tmp_path / "garbage"
    not_lmdb.mkdir()
    (not_lmdb / "data.mdb").write_bytes(b"\x00" * 100)
    with pytest.raises(StoreError, match="cannot open store"):
        StoreView(not_lmdb)
    env = lmdb.open(str(store_dir), max_dbs=2)
    seqs = env.open_db(b"seqs")
    with env.begin(write=True) as txn:
        txn.put(b"LP2", b"short", db=seqs)
    env.close()
    with StoreView(store_dir) as view:
        assert view.path == store_dir
        with pytest.raises(StoreError, match="record of 'LP2' is corrupt"):
            view.sequences("LP2")


def test_the_view_streams_in_chunks(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("trifix.tools.store_view._CHUNK", 3)
    with StoreView(store_dir) as view:
        assert [seq for seq, _ in view.messages("LP1", 2, 9)] == list(range(2, 10))
        assert len(list(view.messages("LP1"))) == 10


def test_a_store_that_cannot_be_opened_for_writing_is_reported(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path) -> LmdbStore:
        raise StoreError(f"cannot open store {path}: permission denied")

    monkeypatch.setattr("trifix.tools.store.LmdbStore", refuse)
    code, _, err = run("trim", "LP1", "--below", "3", "--yes", "--store", store_dir)
    assert code == 1
    assert "permission denied" in err
