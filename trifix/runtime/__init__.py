"""The trio runtime: sessions on the network, supervised in nurseries.

Public API: `open_engine`, `Engine`, `SessionHandle`, and the specs that describe what to run.
"""

from trifix.runtime.engine import Engine, open_engine
from trifix.runtime.handle import NotLoggedOnError, SessionHandle, SessionStatistics
from trifix.runtime.specs import (
    EngineSpec,
    ReconnectPolicy,
    SessionSpec,
    ThrottleSettings,
    TlsSettings,
    system_clock,
)
from trifix.runtime.throttle import ThrottledError

__all__ = [
    "Engine",
    "EngineSpec",
    "NotLoggedOnError",
    "ReconnectPolicy",
    "SessionHandle",
    "SessionSpec",
    "SessionStatistics",
    "ThrottleSettings",
    "ThrottledError",
    "TlsSettings",
    "open_engine",
    "system_clock",
]
