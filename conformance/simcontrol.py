"""The `sim` step's link to a simulator running in the runner's process.

``sim: {session: GW, action: induce_gap, args: {count: 2}}`` calls
``simulator.session("GW").induce_gap(count=2)`` (awaiting it when it is a coroutine). The
actions are the simulator's documented controls (docs/simulator.md); anything else is refused
with the list, so a typo fails the step instead of reaching into the simulator's internals.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Final

from conformance.runner import SimControl
from simulator import Simulator

__all__ = ["SIM_ACTIONS", "simulator_control"]

SIM_ACTIONS: Final = frozenset(
    {"set_behaviour", "induce_gap", "drop_heartbeats", "disconnect", "restart", "flood"}
)


def simulator_control(simulator: Simulator, default_session: str | None = None) -> SimControl:
    """A `SimControl` for `simulator`; a step without ``session`` uses `default_session`
    (or the simulator's only session)."""

    async def control(session: str, action: str, args: Mapping[str, Any]) -> object:
        if action not in SIM_ACTIONS:
            known = ", ".join(sorted(SIM_ACTIONS))
            raise ValueError(f"unknown simulator action {action!r}; known: {known}")
        session_id = session or default_session
        if not session_id:
            if len(simulator.sessions) != 1:
                raise ValueError("the simulator runs several sessions: name one with 'session'")
            [session_id] = simulator.sessions
        target = simulator.session(session_id)
        result = getattr(target, action)(**args)
        if inspect.isawaitable(result):
            result = await result
        return result

    return control
