"""Hot reload: what changed between two configurations, and applying what can be applied.

`diff` sorts every change into one of two kinds:

- **reloadable**: a session's ``trading_hours``, ``reconnection``, ``limits``, ``enabled`` and
  ``name``; the top-level ``log_level``; a session added to the file.
- **restart required**: everything else, namely a session's credentials, host/port, TLS,
  CompIDs, role, heartbeat and ``fix:`` options, trading account; the top-level ``store``,
  ``listen`` and ``metrics``; a session removed from the file (a running session is not torn
  down by an edit); a new acceptor session when ``listen`` changes too, or that takes the
  CompIDs of an acceptor still running.

Until the restart, what needs one keeps running as it was: `ConfigChange.reloaded` is the
configuration that runs once the change is applied, and the next edit is compared with it.

`apply` hands the reloadable part to a running engine: `Engine.reconfigure_session` for a
changed session, with the spec it runs now and only the reloadable parts replaced (so nothing
that needs a restart slips in), and `Engine.add_session` for a new one. It returns one line per
change saying what was applied and what waits for a restart. No line shows a value, so no
secret can leak into a log.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
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

    def reloaded(self) -> GatewayConfig:
        """What runs once `apply` has applied this change: `new`, except what needs a restart.

        A session changed in a way that needs a restart keeps its old configuration (with the
        reloadable keys updated), a removed one keeps running, a new one that cannot start
        before a restart is left out, and so are changed top-level keys that need a restart.
        Comparing the next edit with this, not with `new`, keeps `diff` truthful: removing a
        session and adding it back is no change at all for the running engine.
        """
        changes = {c.id: c for c in self.sessions}
        sessions = list(_running_sessions(self.old, self.new, changes))
        sessions += [
            s
            for s in self.new.sessions
            if s.id in changes and changes[s.id].kind == "added" and not changes[s.id].restart
        ]
        order = {s.id: i for i, s in enumerate(self.new.sessions)}
        sessions.sort(key=lambda s: order.get(s.id, len(order)))
        kept = {key: getattr(self.old, key) for key in self.restart}
        return attrs.evolve(self.new, sessions=tuple(sessions), **kept)


def diff(old: GatewayConfig, new: GatewayConfig) -> ConfigChange:
    """Classify what changed from `old` (what runs) to `new` (see the module docstring)."""
    top = [k for k in _changed_keys(old, new) if k != "sessions"]
    restart_top = tuple(k for k in top if k not in _RELOADABLE_TOP_KEYS)
    before = {s.id: s for s in old.sessions}
    after = {s.id: s for s in new.sessions}
    changes: dict[str, SessionChange] = {}
    for session in new.sessions:
        previous = before.get(session.id)
        keys = [] if previous is None else _changed_keys(previous, session)
        if keys:
            changes[session.id] = SessionChange(
                session.id,
                "changed",
                reloadable=tuple(k for k in keys if k in RELOADABLE_SESSION_KEYS),
                restart=tuple(k for k in keys if k not in RELOADABLE_SESSION_KEYS),
            )
    changes |= {s.id: SessionChange(s.id, "removed") for s in old.sessions if s.id not in after}
    # A new acceptor needs the listening port as it runs, and CompIDs no running acceptor has.
    taken = {
        (s.sender_comp_id, s.target_comp_id)
        for s in _running_sessions(old, new, changes)
        if s.role == "acceptor"
    }
    for session in new.sessions:
        if session.id in before:
            continue
        blocked: tuple[str, ...] = ()
        pair = (session.sender_comp_id, session.target_comp_id)
        if session.role == "acceptor" and "listen" in restart_top:
            blocked = ("listen",)
        elif session.role == "acceptor" and pair in taken:
            blocked = ("sender_comp_id", "target_comp_id")
        elif session.role == "acceptor":
            taken.add(pair)
        changes[session.id] = SessionChange(session.id, "added", restart=blocked)
    order = [s.id for s in new.sessions] + [s.id for s in old.sessions if s.id not in after]
    return ConfigChange(
        old,
        new,
        tuple(changes[i] for i in order if i in changes),
        reloadable=tuple(k for k in top if k in _RELOADABLE_TOP_KEYS),
        restart=restart_top,
    )


def _running_sessions(
    old: GatewayConfig, new: GatewayConfig, changes: dict[str, SessionChange]
) -> Iterator[SessionConfig]:
    """The sessions of `old` as they run once the reloadable part of `changes` is applied."""
    after = {s.id: s for s in new.sessions}
    for session in old.sessions:
        change = changes.get(session.id)
        if change is None or change.kind == "removed":
            yield session
        elif change.restart:
            yield attrs.evolve(
                session, **{k: getattr(after[session.id], k) for k in change.reloadable}
            )
        else:
            yield after[session.id]


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
        if session.kind == "added" and session.restart:
            lines.append(f"{session.id}: new; needs a restart for {', '.join(session.restart)}")
            continue
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
