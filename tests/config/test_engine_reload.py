"""apply() on a real running engine: the Protocol matches `trifix.runtime.Engine`."""

from __future__ import annotations

from trifix.config import ReconfigurableEngine, apply, diff, to_engine_spec
from trifix.runtime import Engine, ThrottleSettings, open_engine

from .helpers import parse

RUNNING = """\
store: {path: null}
listen: {port: 0}
sessions:
  - {id: C1, role: acceptor, sender_comp_id: GW, target_comp_id: C1}
"""
EDITED = """\
store: {path: null}
listen: {port: 0}
sessions:
  - {id: C1, role: acceptor, sender_comp_id: GW, target_comp_id: C1, enabled: false,
     limits: {max_orders_per_second: 5}}
  - {id: C2, role: acceptor, sender_comp_id: GW, target_comp_id: C2}
"""


async def test_apply_reconfigures_and_adds_sessions_of_a_running_engine() -> None:
    old, new = parse(RUNNING), parse(EDITED)
    async with open_engine(to_engine_spec(old)) as engine:
        target: ReconfigurableEngine = engine  # the engine satisfies the protocol
        assert isinstance(engine, Engine)
        lines = await apply(target, diff(old, new), to_engine_spec(new))
        assert lines == ["C1: applied enabled, limits", "C2: added"]
        c1 = engine.session("C1")
        assert not c1.enabled
        assert c1.spec.throttle == ThrottleSettings(5.0)
        assert c1.spec.settings == to_engine_spec(old).sessions[0].settings
        assert engine.session("C2").enabled
