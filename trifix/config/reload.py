"""Hot reload: what changed between two configurations, and applying what can be applied.

`diff` sorts every change into one of two kinds:

- **reloadable**: a session's ``trading_hours``, ``reconnection``, ``limits``, ``enabled`` and
  ``name``; the top-level ``log_level``; a session added to the file.
- **restart required**: everything else, namely a session's credentials, host/port, TLS,
  CompIDs, role, heartbeat and ``fix:`` options, trading account; the top-level ``store``,
  ``listen`` and ``metrics``; a session removed from the file (a running session is not torn
  down by an edit).

`apply` hands the reloadable part to a running engine: `Engine.reconfigure_session` for a
changed session, with the spec it runs now and only the reloadable parts replaced (so nothing
that needs a restart slips in), and `Engine.add_session` for a new one. It returns one line per
change saying what was applied and what waits for a restart. No line shows a value, so no
secret can leak into a log.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Literal, Protocol

import attrs

from trifix.config.loader import to_engine_spec
from trifix.config.schema import GatewayConfig, SessionConfig
from trifix.runtime.specs import EngineSpec, SessionSpec

__all__ = [
    "RELOADABLE_SESSION_KEYS",
    "ConfigChange",
    "ReconfigurableEngine",
    "SessionChange",
    "apply",
    "diff",
]

RELOADABLE_SESSION_KEYS = frozenset({"trading_hours", "reconnection", "limits", "enabled", "name"})
"""Session keys whose changes a running engine takes without a restart."""

_RELOADABLE_TOP_KEYS = frozenset({"log_level"})


@attrs.frozen
class SessionChange:
    """How one session differs between two configurations.

    Attributes:
        id: the session's id.
        kind: "added" (only in the new file), "removed" (only in the old) or "changed".
        reloadable: changed keys a running engine takes (sorted).
        restart: changed keys that need a restart (sorted).
    """

    id: str
    kind: Literal["added", "removed", "changed"]
    reloadable: tuple[str, ...] = ()
    restart: tuple[str, ...] = ()

    @property
    def needs_restart(self) -> bool:
        """Whether some of this change waits for a restart."""
        return self.kind == "removed" or bool(self.restart)


@attrs.frozen
class ConfigChange:
    """Everything that differs between a running configuration and a new one.

    Attributes:
        old, new: the two configurations.
        sessions: the sessions that differ, in the new file's order (removed ones last).
        reloadable: changed top-level keys a running engine takes (``log_level``).
        restart: changed top-level keys that need a restart (``store``, ``listen``, ...).
    """

    old: GatewayConfig = attrs.field(repr=False, eq=False)
    new: GatewayConfig = attrs.field(repr=False, eq=False)
    sessions: tuple[SessionChange, ...] = ()
    reloadable: tuple[str, ...] = ()
    restart: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sessions or self.reloadable or self.restart)

    @property
    def needs_restart(self) -> bool:
        """Whether some change waits for a restart."""
        return bool(self.restart) or any(s.needs_restart for s in self.sessions)


def diff(old: GatewayConfig, new: GatewayConfig) -> ConfigChange:
    """Classify what changed from `old` to `new` (see the module docstring)."""
    before = {s.id: s for s in old.sessions}
    after = {s.id: s for s in new.sessions}
    sessions: list[SessionChange] = []
    for session in new.sessions:
        previous = before.get(session.id)
        if previous is None:
            sessions.append(SessionChange(session.id, "added"))
            continue
        keys = _changed_keys(previous, session)
        if keys:
            sessions.append(
                SessionChange(
                    session.id,
                    "changed",
                    reloadable=tuple(k for k in keys if k in RELOADABLE_SESSION_KEYS),
                    restart=tuple(k for k in keys if k not in RELOADABLE_SESSION_KEYS),
                )
            )
    sessions += [SessionChange(s.id, "removed") for s in old.sessions if s.id not in after]
    top = [k for k in _changed_keys(old, new) if k != "sessions"]
    return ConfigChange(
        old,
        new,
        tuple(sessions),
        reloadable=tuple(k for k in top if k in _RELOADABLE_TOP_KEYS),
        restart=tuple(k for k in top if k not in _RELOADABLE_TOP_KEYS),
    )


def _changed_keys(
    old: GatewayConfig | SessionConfig, new: GatewayConfig | SessionConfig
) -> list[str]:
    return sorted(
        a.name for a in attrs.fields(type(new)) if getattr(old, a.name) != getattr(new, a.name)
    )


class ReconfigurableEngine(Protocol):
    """What `apply` needs of a running engine (`trifix.runtime.Engine` provides it)."""

    def reconfigure_session(self, spec: SessionSpec) -> object:
        """Take a running session's new schedule, reconnection policy, throttle and enabled."""

    async def add_session(self, spec: SessionSpec) -> object:
        """Start running a new session."""


async def apply(
    engine: ReconfigurableEngine,
    change: ConfigChange,
    new_spec: EngineSpec,
    *,
    set_log_level: Callable[[str], object] | None = None,
) -> list[str]:
    """Apply the reloadable part of `change` to a running engine.

    Args:
        engine: the running engine.
        change: from `diff(running_config, new_config)`.
        new_spec: `to_engine_spec(new_config)`; added sessions and the new values of changed
            sessions are taken from it.
        set_log_level: sets the log level when ``log_level`` changed; by default the level of
            the ``trifix`` logger.

    Returns:
        One human-readable line per change: what was applied, what needs a restart.
    """
    new_sessions = {s.id: s for s in new_spec.sessions}
    old_sessions = {s.id: s for s in to_engine_spec(change.old).sessions}
    lines: list[str] = []
    for session in change.sessions:
        if session.kind == "removed":
            lines.append(f"{session.id}: removed from the file; it runs until a restart")
            continue
        spec = new_sessions.get(session.id)
        if spec is None:
            raise ValueError(f"new_spec has no session {session.id!r}: pass to_engine_spec(new)")
        if session.kind == "added":
            await engine.add_session(spec)
            lines.append(f"{session.id}: added" + ("" if spec.enabled else " (disabled)"))
            continue
        if session.reloadable:
            running = old_sessions[session.id]
            engine.reconfigure_session(
                dataclasses.replace(
                    running,
                    schedule=spec.schedule,
                    reconnect=spec.reconnect,
                    throttle=spec.throttle,
                    enabled=spec.enabled,
                )
            )
            lines.append(f"{session.id}: applied {', '.join(session.reloadable)}")
        if session.restart:
            lines.append(f"{session.id}: needs a restart for {', '.join(session.restart)}")
    if "log_level" in change.reloadable:
        level = change.new.log_level
        (set_log_level or _set_trifix_level)(level)
        lines.append(f"log_level: {change.old.log_level} -> {level}")
    lines += [f"{key}: needs a restart" for key in change.restart]
    return lines


def _set_trifix_level(level: str) -> None:
    logging.getLogger("trifix").setLevel(level)
