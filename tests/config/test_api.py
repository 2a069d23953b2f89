"""The public surface of trifix.config, pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import trifix.config


def test_public_names() -> None:
    assert sorted(trifix.config.__all__) == [
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
        "RELOADABLE_SESSION_KEYS",
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
    for name in trifix.config.__all__:
        assert hasattr(trifix.config, name)
