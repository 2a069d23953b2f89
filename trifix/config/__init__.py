"""Gateway configuration: YAML with ``${ENV}`` substitution, checked into attrs classes.

Public API:

- `load(path)` → `GatewayConfig`, `loads(text)`, `to_engine_spec(config)` → `EngineSpec`,
  and `load_engine_spec(path)` for both at once (what ``trifix run FILE`` runs);
- `ConfigFileError` (a `ConfigError`): every problem of a file, each with file, line, column
  and dotted key (`ConfigProblem`);
- hot reload: `diff(old, new)` → `ConfigChange`, `watch(path, on_change)` and
  `apply(engine, change, new_spec)`;
- `load_with_sections(path, sections)`: a file with extra top-level sections of other tools;
- the schema's classes, one per block of the file (see docs/configuration.md).
"""

from trifix.config.documents import load_with_sections
from trifix.config.errors import ConfigFileError, ConfigProblem, InvalidValue
from trifix.config.loader import load, load_engine_spec, loads, session_spec, to_engine_spec
from trifix.config.reload import (
    RELOADABLE_SESSION_KEYS,
    ConfigChange,
    ReconfigurableEngine,
    SessionChange,
    apply,
    diff,
)
from trifix.config.schema import (
    BreakerConfig,
    FixOptions,
    GatewayConfig,
    HostPort,
    InstrumentConfig,
    LimitsConfig,
    LiquidityProviderConfig,
    ListenConfig,
    MetricsConfig,
    ReconnectionConfig,
    SessionConfig,
    StoreConfig,
    TlsConfig,
    TradingConfig,
    TradingHours,
    ValidationConfig,
    WebConfig,
    WeeklyHours,
)
from trifix.config.watcher import OnChange, OnError, watch
from trifix.core.errors import ConfigError

__all__ = [
    "RELOADABLE_SESSION_KEYS",
    "BreakerConfig",
    "ConfigChange",
    "ConfigError",
    "ConfigFileError",
    "ConfigProblem",
    "FixOptions",
    "GatewayConfig",
    "HostPort",
    "InstrumentConfig",
    "InvalidValue",
    "LimitsConfig",
    "LiquidityProviderConfig",
    "ListenConfig",
    "MetricsConfig",
    "OnChange",
    "OnError",
    "ReconfigurableEngine",
    "ReconnectionConfig",
    "SessionChange",
    "SessionConfig",
    "StoreConfig",
    "TlsConfig",
    "TradingConfig",
    "TradingHours",
    "ValidationConfig",
    "WebConfig",
    "WeeklyHours",
    "apply",
    "diff",
    "load",
    "load_engine_spec",
    "load_with_sections",
    "loads",
    "session_spec",
    "to_engine_spec",
    "watch",
]
