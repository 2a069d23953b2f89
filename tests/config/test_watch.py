"""watch(): a file rewritten under a running watcher, on trio's MockClock (autojump).

The watcher reads the file through `trio.Path`, in worker threads; while a thread runs, an
autojump clock may move past any deadline, so how many looks fit in a sleep would depend on
the machine. The watch tests therefore read the file inline (the `inline_files` fixture, which
also counts the looks), and each second of the mock clock is one look. `TestPoller` runs the
real `trio.Path` calls, one look per call.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import trio
import trio.lowlevel
import trio.testing

from trifix.config import (
    ConfigChange,
    ConfigError,
    ConfigFileError,
    GatewayConfig,
    SessionChange,
    loads,
    watch,
)
from trifix.config.watcher import _Poller

from .helpers import SESSION

GOOD = SESSION
RELOADABLE = SESSION + "    enabled: false\n"
BAD = SESSION + "    enabled: perhaps\n"

Report = tuple[GatewayConfig, GatewayConfig, ConfigChange] | ConfigError


def config(text: str) -> GatewayConfig:
    return loads(text, environ={})


def write(path: Path, text: str, *, mtime_ns: int | None = None) -> None:
    """Replace the file as deployment tools and most editors do: write aside, then rename.

    The write is synchronous, so no poll of the watcher can fall in the middle of it.
    """
    aside = path.with_suffix(".tmp")
    aside.write_text(text, encoding="utf-8")
    if mtime_ns is not None:
        os.utime(aside, ns=(mtime_ns, mtime_ns))
    aside.replace(path)


def hour_ago(path: Path) -> int:
    """A modification time an hour before the file's."""
    return path.stat().st_mtime_ns - 3600 * 10**9


def rewrite_in_place(path: Path, text: str, *, keep_stamp: bool = False) -> None:
    """Overwrite the file itself (same inode), optionally putting its times back."""
    stat = path.stat()
    path.write_text(text, encoding="utf-8")
    if keep_stamp:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


class LogWaiter(logging.Handler):
    """Collects records of the trifix.config logger; `wait` returns once there is one."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []
        self._logged = trio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self._logged.set()

    async def wait(self) -> None:
        await self._logged.wait()


@pytest.fixture
def log() -> Iterator[LogWaiter]:
    logger = logging.getLogger("trifix.config")
    waiter = LogWaiter()
    level = logger.level
    logger.addHandler(waiter)
    logger.setLevel(logging.DEBUG)
    yield waiter
    logger.removeHandler(waiter)
    logger.setLevel(level)


class Reports:
    """What the watcher reports, in order: (old, new, change) triples and errors."""

    def __init__(self) -> None:
        self._send, self._receive = trio.open_memory_channel[Report](100)

    def on_change(self, old: GatewayConfig, new: GatewayConfig, change: ConfigChange) -> None:
        self._send.send_nowait((old, new, change))

    def on_error(self, exc: ConfigError) -> None:
        self._send.send_nowait(exc)

    async def next(self) -> Report:
        return await self._receive.receive()

    async def next_change(self) -> tuple[GatewayConfig, GatewayConfig, ConfigChange]:
        report = await self.next()
        assert not isinstance(report, ConfigError), str(report)
        return report

    async def next_error(self) -> ConfigError:
        report = await self.next()
        assert isinstance(report, ConfigError), report
        return report


@asynccontextmanager
async def watching(path: Path, reports: Reports, **options: object) -> AsyncIterator[None]:
    """Run watch() on `path` (a look every second) for the duration of the block."""
    async with trio.open_nursery() as nursery:
        await nursery.start(
            partial(
                watch,
                path,
                reports.on_change,
                poll_interval=1.0,
                on_error=reports.on_error,
                environ={},
                **options,  # type: ignore[arg-type]
            )
        )
        yield
        nursery.cancel_scope.cancel()


@pytest.fixture
def inline_files(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make trio.Path.stat and read_bytes run inline; returns the times of the looks."""
    looks: list[float] = []

    async def stat(self: trio.Path) -> os.stat_result:
        await trio.lowlevel.checkpoint()
        looks.append(trio.current_time())
        return os.stat(self)

    async def read_bytes(self: trio.Path) -> bytes:
        await trio.lowlevel.checkpoint()
        with open(self, "rb") as file:  # noqa: ASYNC230 (inline on purpose, see above)
            return file.read()

    monkeypatch.setattr(trio.Path, "stat", stat)
    monkeypatch.setattr(trio.Path, "read_bytes", read_bytes)
    return looks


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "gateway.yaml"
    file.write_text(GOOD, encoding="utf-8")
    return file


@pytest.mark.usefixtures("inline_files")
async def test_start_returns_the_running_config(
    path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with trio.open_nursery() as nursery:
        running = await nursery.start(partial(watch, path, Reports().on_change, environ={}))
        nursery.cancel_scope.cancel()
    assert running == config(GOOD)


@pytest.mark.usefixtures("inline_files")
async def test_a_good_edit_is_reported_with_what_changed(
    path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    reports = Reports()
    async with watching(path, reports):
        await trio.sleep(3.5)
        write(path, RELOADABLE)
        old, new, change = await reports.next_change()
        assert trio.current_time() == 4  # at the next look
    assert (old, new) == (config(GOOD), config(RELOADABLE))
    assert change.sessions == (SessionChange("LP1", "changed", reloadable=("enabled",)),)


async def test_a_bad_edit_is_reported_once_and_the_running_config_stays(
    path: Path, autojump_clock: trio.testing.MockClock, inline_files: list[float]
) -> None:
    reports = Reports()
    async with watching(path, reports):
        write(path, BAD)
        error = await reports.next_error()
        assert isinstance(error, ConfigFileError)
        assert str(error) == (
            f'{path}:7:5: sessions[0].enabled: expected true or false, got "perhaps"'
        )
        looks = len(inline_files)
        await trio.sleep(10.5)
        assert len(inline_files) - looks == 10  # ten more looks at the bad file, no report
        write(path, RELOADABLE)
        old, new, _ = await reports.next_change()
    # The diff is against the config that kept running, not against the bad edit.
    assert (old, new) == (config(GOOD), config(RELOADABLE))


@pytest.mark.usefixtures("inline_files")
async def test_an_edit_that_changes_nothing_is_only_logged(
    path: Path, autojump_clock: trio.testing.MockClock, log: LogWaiter
) -> None:
    reports = Reports()
    async with watching(path, reports):
        write(path, "# a comment\n" + GOOD)
        await log.wait()
        write(path, RELOADABLE)
        old, _, _ = await reports.next_change()
    assert old == config(GOOD)
    assert log.messages == [f"{path}: edited; nothing to reload"]


async def test_a_missing_file_is_reported_once_then_picked_up_again(
    path: Path, autojump_clock: trio.testing.MockClock, inline_files: list[float]
) -> None:
    reports = Reports()
    async with watching(path, reports):
        os.unlink(path)
        error = await reports.next_error()
        assert str(error) == f"{path}: cannot read the file: No such file or directory"
        looks = len(inline_files)
        await trio.sleep(10.5)
        assert len(inline_files) - looks == 10
        write(path, RELOADABLE)
        _, new, _ = await reports.next_change()
    assert new == config(RELOADABLE)


@pytest.mark.usefixtures("inline_files")
async def test_the_running_config_can_be_given(
    path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    # The engine runs RELOADABLE; the file already says GOOD: the first look reports it.
    reports = Reports()
    async with watching(path, reports, current=config(RELOADABLE)):
        old, new, _ = await reports.next_change()
    assert (old, new) == (config(RELOADABLE), config(GOOD))


@pytest.mark.usefixtures("inline_files")
async def test_the_next_edit_is_compared_with_what_runs(
    path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    # A port change needs a restart: until then the old port runs, so changing it back is
    # no change, and a later reloadable edit is compared with the old port.
    reports = Reports()
    async with watching(path, reports):
        write(path, GOOD.replace("9876", "9999"))
        _, _, change = await reports.next_change()
        assert change.needs_restart
        write(path, GOOD.replace("9876", "9999") + "    name: x\n")
        _, _, change = await reports.next_change()
    assert change.sessions == (
        SessionChange("LP1", "changed", reloadable=("name",), restart=("port",)),
    )


async def test_a_missing_or_bad_file_at_the_start_raises(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match=r"nothing\.yaml: cannot read the file"):
        await watch(tmp_path / "nothing.yaml", Reports().on_change)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    with pytest.raises(ConfigFileError, match="expected true or false"):
        await watch(bad, Reports().on_change, environ={})


@pytest.mark.usefixtures("inline_files")
async def test_callbacks_may_be_async(path: Path, autojump_clock: trio.testing.MockClock) -> None:
    reports = Reports()

    async def on_change(old: GatewayConfig, new: GatewayConfig, change: ConfigChange) -> None:
        await trio.lowlevel.checkpoint()
        reports.on_change(old, new, change)

    async def on_error(exc: ConfigError) -> None:
        await trio.lowlevel.checkpoint()
        reports.on_error(exc)

    async with trio.open_nursery() as nursery:
        await nursery.start(partial(watch, path, on_change, on_error=on_error, environ={}))
        write(path, BAD)
        await reports.next_error()
        write(path, RELOADABLE)
        await reports.next_change()
        nursery.cancel_scope.cancel()


@pytest.mark.usefixtures("inline_files")
async def test_a_bad_edit_is_logged_by_default(
    path: Path, autojump_clock: trio.testing.MockClock, log: LogWaiter
) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(watch, path, Reports().on_change, environ={}))
        write(path, BAD)
        await log.wait()
        nursery.cancel_scope.cancel()
    assert log.messages == [
        "configuration not reloaded:\n"
        f'{path}:7:5: sessions[0].enabled: expected true or false, got "perhaps"'
    ]


@pytest.mark.usefixtures("inline_files")
async def test_what_on_change_raises_ends_the_watch(
    path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    def on_change(old: GatewayConfig, new: GatewayConfig, change: ConfigChange) -> None:
        raise RuntimeError("cannot apply")

    with pytest.RaisesGroup(pytest.RaisesExc(RuntimeError, match="cannot apply")):
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(watch, path, on_change, environ={}))
            write(path, RELOADABLE)


class TestPoller:
    """One `changed()` call is one look at the file."""

    @pytest.fixture
    def reads(self, monkeypatch: pytest.MonkeyPatch) -> list[trio.Path]:
        reads: list[trio.Path] = []
        read_bytes = trio.Path.read_bytes

        async def counting(self: trio.Path) -> bytes:
            reads.append(self)
            return await read_bytes(self)

        monkeypatch.setattr(trio.Path, "read_bytes", counting)
        return reads

    async def test_the_first_look_reads_and_returns_the_content(
        self, path: Path, reads: list[trio.Path]
    ) -> None:
        poller = _Poller(trio.Path(path))
        assert await poller.changed() == GOOD.encode()
        assert len(reads) == 1

    async def test_an_old_unchanged_file_is_not_read_again(
        self, path: Path, reads: list[trio.Path]
    ) -> None:
        write(path, GOOD, mtime_ns=hour_ago(path))
        poller = _Poller(trio.Path(path))
        await poller.changed()
        assert [await poller.changed() for _ in range(3)] == [None, None, None]
        assert len(reads) == 1
        # Rewritten with the same size, inode and time: the stamp cannot tell, so it is
        # not read (editors and tools change the time; this is the price of not reading).
        rewrite_in_place(path, GOOD.replace("LP1", "LP2"), keep_stamp=True)
        assert await poller.changed() is None
        assert len(reads) == 1

    async def test_a_moved_stamp_means_a_read(self, path: Path, reads: list[trio.Path]) -> None:
        then = hour_ago(path)
        write(path, GOOD, mtime_ns=then)
        poller = _Poller(trio.Path(path))
        await poller.changed()
        write(path, GOOD.replace("LP1", "LP2"), mtime_ns=then + 10**9)
        assert await poller.changed() == GOOD.replace("LP1", "LP2").encode()
        # The same content under a new stamp is read, and found unchanged.
        write(path, GOOD.replace("LP1", "LP2"), mtime_ns=then + 2 * 10**9)
        assert await poller.changed() is None
        assert len(reads) == 3

    async def test_a_recent_file_is_read_at_every_look(
        self, path: Path, reads: list[trio.Path]
    ) -> None:
        # Its time may not have moved yet for a write that already happened ("racy").
        poller = _Poller(trio.Path(path))
        await poller.changed()
        assert await poller.changed() is None
        rewrite_in_place(path, GOOD.replace("LP1", "LP2"))
        assert await poller.changed() == GOOD.replace("LP1", "LP2").encode()
        assert len(reads) == 3

    async def test_a_missing_file_raises(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            await _Poller(trio.Path(tmp_path / "none.yaml")).changed()
