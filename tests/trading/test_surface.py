"""The public surface of `trifix.trading`, pinned (as trio pins its own): adding a name is a
decision, and removing or renaming one breaks applications."""

from __future__ import annotations

import importlib
import pkgutil

import trifix.trading

SURFACE = [
    "BUY_SIDES",
    "ENDED",
    "PENDING_REQUEST",
    "SELL_SIDES",
    "WORKING",
    "Alert",
    "AlertKind",
    "Bbo",
    "BboChanged",
    "BookChanged",
    "BookEntry",
    "BookInconsistent",
    "BookStyle",
    "BookUpdate",
    "BookUpdated",
    "BreakerSettings",
    "BreakerState",
    "BreakerStateChanged",
    "BreakerStatistics",
    "BusinessMessageReject",
    "Candidate",
    "Check",
    "CheckContext",
    "CheckFailure",
    "CircuitBreaker",
    "CircuitOpenError",
    "Collar",
    "CollarCheck",
    "ConsolidatedBBO",
    "Depth",
    "DuplicateClOrdIDCheck",
    "DuplicateClOrdIDError",
    "DuplicateIgnored",
    "ExecutionReport",
    "FailureKind",
    "Fill",
    "Gateway",
    "GatewayStatistics",
    "GatewayUpdate",
    "IllegalTransition",
    "IllegalTransitionError",
    "Inconsistency",
    "InconsistencyKind",
    "Instrument",
    "LPConfig",
    "LPStatistics",
    "Level",
    "LpLevel",
    "MDEntry",
    "MDIncrement",
    "MalformedReport",
    "MarketDataError",
    "MarketDataEvent",
    "MarketDataIgnored",
    "MarketDataIncrementalRefresh",
    "MarketDataManager",
    "MarketDataRequest",
    "MarketDataRequestReject",
    "MarketDataSession",
    "MarketDataSnapshotFullRefresh",
    "MassStatusCompleted",
    "NewOrderSingle",
    "NoRouteError",
    "NotLoggedOnError",
    "NotionalLimitCheck",
    "OrderBook",
    "OrderCancelReject",
    "OrderCancelReplaceRequest",
    "OrderCancelRequest",
    "OrderChanged",
    "OrderEvent",
    "OrderMassStatusRequest",
    "OrderRequest",
    "OrderSource",
    "OrderState",
    "OrderStatusRequest",
    "OrderTracker",
    "OrderTrackingError",
    "OrderUpdate",
    "OrderView",
    "Overfill",
    "PendingRequest",
    "PreTradeCheckError",
    "PreTradeChecks",
    "QuantityCheck",
    "QuantityMismatch",
    "Quote",
    "QuoteBook",
    "QuoteCancel",
    "QuoteChanged",
    "QuoteError",
    "QuoteRequest",
    "QuoteState",
    "QuoteView",
    "RecoveryError",
    "ResnapshotPolicy",
    "Route",
    "SessionChanged",
    "Subscription",
    "SubscriptionChanged",
    "SubscriptionLimitError",
    "SubscriptionState",
    "SupportsToMessage",
    "SymbolCheck",
    "ThrottledError",
    "TickSizeCheck",
    "TopOfBook",
    "TrackerEvent",
    "TradingError",
    "TradingHoursCheck",
    "TradingMessageError",
    "TypedMessage",
    "UnknownLPError",
    "UnknownOrder",
    "UnknownOrderError",
    "UpdateHub",
    "choose_best_price",
    "decode",
    "from_dict",
    "open_gateway",
    "to_dict",
]

MODULE_ONLY = {
    # The state machine's table and helpers: for the tracker and its tests, not applications.
    "trifix.trading.order_state": {
        "MachineState", "PRIOR", "Reported", "START", "TRANSITIONS", "VIA_PRIOR", "apply",
        "classify", "state_from_ord_status",
    },
    # The wire base classes and the class table behind `decode`.
    "trifix.trading.messages": {"MESSAGE_CLASSES", "WireEntry", "WireMessage"},
    # Fast readers of market data messages, for the manager and the benchmarks.
    "trifix.trading.mdwire": {"read_incremental", "read_md_req_id", "read_snapshot"},
    # The gateway's internals: its plumbing, one LP's state, the JSON helper.
    "trifix.trading.gateway_core": {"GatewayCore"},
    "trifix.trading.gateway_md": {"GatewayMarketData"},
    "trifix.trading.gateway_lp": {"Awaiting", "LPState"},
    "trifix.trading.updates": {"jsonable"},
}  # fmt: skip


def test_the_surface_is_pinned() -> None:
    assert sorted(trifix.trading.__all__) == sorted(SURFACE)
    assert len(set(SURFACE)) == len(SURFACE)
    for name in SURFACE:
        assert getattr(trifix.trading, name) is not None, name


def test_every_public_name_of_every_module_is_exported_or_kept_there_on_purpose() -> None:
    for info in pkgutil.iter_modules(trifix.trading.__path__, "trifix.trading."):
        if info.name.rsplit(".", 1)[1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        names = set(getattr(module, "__all__", ()))
        left_out = names - set(SURFACE) - MODULE_ONLY.get(info.name, set())
        assert not left_out, f"{info.name} exports {sorted(left_out)} that trifix.trading does not"
        for name in names & set(SURFACE):
            assert getattr(trifix.trading, name) is getattr(module, name), (info.name, name)


def test_module_only_names_exist() -> None:
    for module_name, names in MODULE_ONLY.items():
        module = importlib.import_module(module_name)
        assert names <= set(module.__all__), module_name
