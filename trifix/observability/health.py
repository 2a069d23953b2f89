"""Health: the engine's sessions summed up for ``GET /health``.

The shape (the operations plan's, plus ``status``/``state``/sequence numbers per session)::

    {
      "status": "healthy",
      "sessions": {
        "LP1": {
          "status": "up",
          "state": "active",
          "connected": true,
          "logged_in": true,
          "last_heartbeat": "2026-01-18T10:30:15Z",
          "sequences_in_sync": true,
          "uptime_seconds": 3600,
          "next_sender_seq": 12,
          "next_target_seq": 34,
          "last_error": null
        }
      }
    }

Per session ``status``: ``up`` (logged on, no gap outstanding), ``degraded`` (logged on, a
ResendRequest of ours is outstanding), ``down`` (enabled, inside its schedule, not logged on),
``disabled``, ``closed`` (outside its trading schedule). ``last_heartbeat`` is when the peer
last showed it is alive: the last bytes received (in FIX any message stands in for a
Heartbeat). ``last_error`` is redacted.

Overall ``status``: ``healthy`` when every session that should be up is up (or none should
be), ``degraded`` when at least one is logged on, ``unhealthy`` otherwise. HTTP answers 200
for healthy and degraded, 503 for unhealthy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from trifix.observability.redact import redact_text
from trifix.runtime import Engine, SessionHandle

__all__ = ["Health", "health", "session_health"]

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
Health = dict[str, Any]


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    text = moment.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def session_health(handle: SessionHandle, now: datetime) -> Health:
    """One session's entry of the health report (see the module docstring)."""
    stats = handle.statistics()
    in_sync = not stats.awaiting_resend
    if not stats.enabled:
        status = "disabled"
    elif stats.logged_on:
        status = "up" if in_sync else "degraded"
    elif not handle.spec.schedule.is_open(now):
        status = "closed"
    else:
        status = "down"
    since = stats.logged_on_since if stats.logged_on else None
    uptime = round(max(0.0, (now - since).total_seconds()), 3) if since is not None else 0
    return {
        "status": status,
        "state": stats.state.value,
        "connected": stats.connected,
        "logged_in": stats.logged_on,
        "last_heartbeat": _iso(stats.last_received),
        "sequences_in_sync": in_sync,
        "uptime_seconds": uptime,
        "next_sender_seq": stats.next_sender_seq,
        "next_target_seq": stats.next_target_seq,
        "last_error": redact_text(stats.last_error) if stats.last_error else None,
    }


def health(engine: Engine, now: datetime | None = None) -> Health:
    """The health report of every session of `engine` (see the module docstring)."""
    moment = now if now is not None else engine.clock()
    sessions = {sid: session_health(h, moment) for sid, h in list(engine.sessions.items())}
    expected = [s for s in sessions.values() if s["status"] in ("up", "degraded", "down")]
    if all(s["status"] == "up" for s in expected):
        overall = HEALTHY
    elif any(s["logged_in"] for s in expected):
        overall = DEGRADED
    else:
        overall = UNHEALTHY
    return {"status": overall, "sessions": sessions}


def http_status(report: Health) -> int:
    """200 unless the report is unhealthy (503)."""
    return 503 if report["status"] == UNHEALTHY else 200
