"""Watching a configuration file and reporting each good edit as a `ConfigChange`.

`watch` polls the file: when its modification time, size or inode moved (or its modification
time is too recent to trust, as with git's "racy" index entries: a second write within the
file system's timestamp resolution leaves them unchanged) it reads the file and hashes it. New
content is loaded and compared with the running configuration. A good edit is passed to
`on_change`, and what of it can be reloaded becomes the running configuration
(`ConfigChange.reloaded`); a bad one is passed to `on_error`, once, and the running
configuration stays. An edit that changes nothing that matters (a comment) is
only logged, at debug level.

Write the file whole (to a temporary name, then rename it over the old one), as deployment
tools and most editors do: a poll that catches a file half-written reports it as a bad edit,
and the next poll picks up the whole file.

The file is read in a worker thread (`trio.Path`), so a slow file system cannot stall the
sessions sharing the event loop.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping

import trio

from trifix.config.errors import ConfigFileError, ConfigProblem
from trifix.config.loader import loads
from trifix.config.reload import ConfigChange, diff
from trifix.config.schema import GatewayConfig
from trifix.core.errors import ConfigError

__all__ = ["OnChange", "OnError", "watch"]

OnChange = Callable[[GatewayConfig, GatewayConfig, ConfigChange], Awaitable[object] | object]
"""Called with the running configuration, the new one and what changed (sync or async)."""
OnError = Callable[[ConfigError], Awaitable[object] | object]
"""Called with what is wrong with an edit that was not taken (sync or async)."""

_RACY_NS = 2_000_000_000  # a modification time this close to the last look is not trusted
_log = logging.getLogger("trifix.config")


async def watch(
    path: str | os.PathLike[str],
    on_change: OnChange,
    *,
    poll_interval: float = 1.0,
    on_error: OnError | None = None,
    environ: Mapping[str, str] = os.environ,
    current: GatewayConfig | None = None,
    task_status: trio.TaskStatus[GatewayConfig] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Poll `path` every `poll_interval` seconds and report changes; runs until cancelled.

    Args:
        path: the configuration file.
        on_change: called as ``on_change(old, new, change)`` after a good edit that changes
            something: `old` is what runs, `new` what the file now says, `change` their
            `diff`. What runs from then on is `change.reloaded()` (what needs a restart
            keeps its old value, so the next edit is compared with what really runs). What
            `on_change` raises ends the watch.
        poll_interval: seconds between looks at the file.
        on_error: called with the `ConfigError` of an edit that cannot be used (or of a file
            that went missing), once per bad content; by default a warning is logged.
        environ: the environment for ``${NAME}`` substitution and overrides.
        current: the configuration running now; by default the file is loaded first (and a
            `ConfigError` raised if it is bad).
        task_status: for ``nursery.start(watch, ...)``, which returns the running configuration
            once the first look at the file is done.
    """
    name = os.fspath(path)
    poller = _Poller(trio.Path(path))
    if current is None:
        try:
            data = await poller.changed()
        except OSError as exc:
            raise _unreadable(name, exc) from None
        assert data is not None  # the first look always finds new content
        current = loads(data, file=name, environ=environ)
    running = current
    task_status.started(running)
    missing = False
    while True:
        await trio.sleep(poll_interval)
        try:
            data = await poller.changed()
        except OSError as exc:
            if not missing:  # report it once, not at every poll
                missing = True
                await _call(on_error or _log_error, _unreadable(name, exc))
            continue
        missing = False
        if data is None:
            continue
        try:
            new = loads(data, file=name, environ=environ)
        except ConfigError as exc:
            await _call(on_error or _log_error, exc)
            continue
        change = diff(running, new)
        old, running = running, change.reloaded()
        if change:
            await _call(on_change, old, new, change)
        else:
            _log.debug("%s: edited; nothing to reload", name)


class _Poller:
    """Tells whether a file's content changed since the last look, reading it only if needed."""

    def __init__(self, file: trio.Path) -> None:
        self._file = file
        self._stamp: tuple[int, int, int] | None = None
        self._looked_ns = 0
        self._digest = b""

    async def changed(self) -> bytes | None:
        """The file's content if it changed since the last call, else None.

        Raises:
            OSError: the file cannot be read.
        """
        stat = await self._file.stat()
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp == self._stamp and stat.st_mtime_ns < self._looked_ns - _RACY_NS:
            return None
        looked_ns = time.time_ns()
        data = await self._file.read_bytes()
        self._stamp, self._looked_ns = stamp, looked_ns
        digest = hashlib.sha256(data).digest()
        if digest == self._digest:
            return None
        self._digest = digest
        return data


def _unreadable(name: str, exc: OSError) -> ConfigFileError:
    problem = ConfigProblem(name, None, None, "", f"cannot read the file: {exc.strerror}")
    return ConfigFileError([problem])


async def _call(callback: Callable[..., Awaitable[object] | object], *args: object) -> None:
    result = callback(*args)
    if inspect.isawaitable(result):
        await result


def _log_error(exc: ConfigError) -> None:
    _log.warning("configuration not reloaded:\n%s", exc)
