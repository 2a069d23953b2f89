"""The trading layer: typed messages, orders, market data, quotes and multi-LP routing.

It sits above `trifix.runtime` and knows nothing of bytes or sockets: it reads and writes
`Message`s through the runtime's `SessionHandle`s. Applications use the gateway
(`open_gateway`, `LPConfig`, `Route`) and the values it hands out; the building blocks
(`OrderTracker`, `PreTradeChecks`, `CircuitBreaker`, `MarketDataManager`, `OrderBook`,
`ConsolidatedBBO`, `QuoteBook`) are public too, for applications that drive sessions
themselves. Names are re-exported here from their modules; a few module-level details (the
state machine's table and helpers, the wire base classes, `mdwire`'s readers) stay in their
modules. The runtime's `NotLoggedOnError` and `ThrottledError`, which the gateway's sends
raise, are re-exported. `tests/trading/test_surface.py` pins this surface.
"""

from trifix.runtime import NotLoggedOnError as NotLoggedOnError
from trifix.runtime import ThrottledError as ThrottledError
from trifix.trading.bbo import (
    Bbo as Bbo,
)
from trifix.trading.bbo import (
    ConsolidatedBBO as ConsolidatedBBO,
)
from trifix.trading.bbo import (
    LpLevel as LpLevel,
)
from trifix.trading.book import (
    OrderBook as OrderBook,
)
from trifix.trading.bookvalues import (
    BookEntry as BookEntry,
)
from trifix.trading.bookvalues import (
    BookStyle as BookStyle,
)
from trifix.trading.bookvalues import (
    BookUpdate as BookUpdate,
)
from trifix.trading.bookvalues import (
    Depth as Depth,
)
from trifix.trading.bookvalues import (
    Inconsistency as Inconsistency,
)
from trifix.trading.bookvalues import (
    InconsistencyKind as InconsistencyKind,
)
from trifix.trading.bookvalues import (
    Level as Level,
)
from trifix.trading.bookvalues import (
    TopOfBook as TopOfBook,
)
from trifix.trading.breaker import (
    BreakerSettings as BreakerSettings,
)
from trifix.trading.breaker import (
    BreakerState as BreakerState,
)
from trifix.trading.breaker import (
    BreakerStateChanged as BreakerStateChanged,
)
from trifix.trading.breaker import (
    BreakerStatistics as BreakerStatistics,
)
from trifix.trading.breaker import (
    CircuitBreaker as CircuitBreaker,
)
from trifix.trading.breaker import (
    CircuitOpenError as CircuitOpenError,
)
from trifix.trading.breaker import (
    FailureKind as FailureKind,
)
from trifix.trading.checks import (
    Check as Check,
)
from trifix.trading.checks import (
    CheckContext as CheckContext,
)
from trifix.trading.checks import (
    CheckFailure as CheckFailure,
)
from trifix.trading.checks import (
    Collar as Collar,
)
from trifix.trading.checks import (
    CollarCheck as CollarCheck,
)
from trifix.trading.checks import (
    DuplicateClOrdIDCheck as DuplicateClOrdIDCheck,
)
from trifix.trading.checks import (
    Instrument as Instrument,
)
from trifix.trading.checks import (
    NotionalLimitCheck as NotionalLimitCheck,
)
from trifix.trading.checks import (
    OrderRequest as OrderRequest,
)
from trifix.trading.checks import (
    OrderSource as OrderSource,
)
from trifix.trading.checks import (
    PreTradeCheckError as PreTradeCheckError,
)
from trifix.trading.checks import (
    PreTradeChecks as PreTradeChecks,
)
from trifix.trading.checks import (
    QuantityCheck as QuantityCheck,
)
from trifix.trading.checks import (
    SymbolCheck as SymbolCheck,
)
from trifix.trading.checks import (
    TickSizeCheck as TickSizeCheck,
)
from trifix.trading.checks import (
    TradingHoursCheck as TradingHoursCheck,
)
from trifix.trading.errors import (
    TradingError as TradingError,
)
from trifix.trading.errors import (
    TradingMessageError as TradingMessageError,
)
from trifix.trading.gateway import (
    Gateway as Gateway,
)
from trifix.trading.gateway import (
    GatewayStatistics as GatewayStatistics,
)
from trifix.trading.gateway import (
    LPStatistics as LPStatistics,
)
from trifix.trading.gateway import (
    UnknownLPError as UnknownLPError,
)
from trifix.trading.gateway import (
    open_gateway as open_gateway,
)
from trifix.trading.marketdata import (
    BookInconsistent as BookInconsistent,
)
from trifix.trading.marketdata import (
    BookUpdated as BookUpdated,
)
from trifix.trading.marketdata import (
    MarketDataError as MarketDataError,
)
from trifix.trading.marketdata import (
    MarketDataEvent as MarketDataEvent,
)
from trifix.trading.marketdata import (
    MarketDataIgnored as MarketDataIgnored,
)
from trifix.trading.marketdata import (
    MarketDataManager as MarketDataManager,
)
from trifix.trading.marketdata import (
    ResnapshotPolicy as ResnapshotPolicy,
)
from trifix.trading.marketdata import (
    Subscription as Subscription,
)
from trifix.trading.marketdata import (
    SubscriptionChanged as SubscriptionChanged,
)
from trifix.trading.marketdata import (
    SubscriptionLimitError as SubscriptionLimitError,
)
from trifix.trading.marketdata import (
    SubscriptionState as SubscriptionState,
)
from trifix.trading.mdsession import (
    MarketDataSession as MarketDataSession,
)
from trifix.trading.messages import (
    BusinessMessageReject as BusinessMessageReject,
)
from trifix.trading.messages import (
    ExecutionReport as ExecutionReport,
)
from trifix.trading.messages import (
    MarketDataIncrementalRefresh as MarketDataIncrementalRefresh,
)
from trifix.trading.messages import (
    MarketDataRequest as MarketDataRequest,
)
from trifix.trading.messages import (
    MarketDataRequestReject as MarketDataRequestReject,
)
from trifix.trading.messages import (
    MarketDataSnapshotFullRefresh as MarketDataSnapshotFullRefresh,
)
from trifix.trading.messages import (
    MDEntry as MDEntry,
)
from trifix.trading.messages import (
    MDIncrement as MDIncrement,
)
from trifix.trading.messages import (
    NewOrderSingle as NewOrderSingle,
)
from trifix.trading.messages import (
    OrderCancelReject as OrderCancelReject,
)
from trifix.trading.messages import (
    OrderCancelReplaceRequest as OrderCancelReplaceRequest,
)
from trifix.trading.messages import (
    OrderCancelRequest as OrderCancelRequest,
)
from trifix.trading.messages import (
    OrderMassStatusRequest as OrderMassStatusRequest,
)
from trifix.trading.messages import (
    OrderStatusRequest as OrderStatusRequest,
)
from trifix.trading.messages import (
    Quote as Quote,
)
from trifix.trading.messages import (
    QuoteCancel as QuoteCancel,
)
from trifix.trading.messages import (
    QuoteRequest as QuoteRequest,
)
from trifix.trading.messages import (
    TypedMessage as TypedMessage,
)
from trifix.trading.messages import (
    decode as decode,
)
from trifix.trading.messages import (
    from_dict as from_dict,
)
from trifix.trading.messages import (
    to_dict as to_dict,
)
from trifix.trading.order_state import (
    ENDED as ENDED,
)
from trifix.trading.order_state import (
    PENDING_REQUEST as PENDING_REQUEST,
)
from trifix.trading.order_state import (
    WORKING as WORKING,
)
from trifix.trading.order_state import (
    IllegalTransitionError as IllegalTransitionError,
)
from trifix.trading.order_state import (
    OrderEvent as OrderEvent,
)
from trifix.trading.order_state import (
    OrderState as OrderState,
)
from trifix.trading.order_views import (
    DuplicateIgnored as DuplicateIgnored,
)
from trifix.trading.order_views import (
    Fill as Fill,
)
from trifix.trading.order_views import (
    IllegalTransition as IllegalTransition,
)
from trifix.trading.order_views import (
    MalformedReport as MalformedReport,
)
from trifix.trading.order_views import (
    MassStatusCompleted as MassStatusCompleted,
)
from trifix.trading.order_views import (
    OrderUpdate as OrderUpdate,
)
from trifix.trading.order_views import (
    OrderView as OrderView,
)
from trifix.trading.order_views import (
    Overfill as Overfill,
)
from trifix.trading.order_views import (
    PendingRequest as PendingRequest,
)
from trifix.trading.order_views import (
    QuantityMismatch as QuantityMismatch,
)
from trifix.trading.order_views import (
    TrackerEvent as TrackerEvent,
)
from trifix.trading.order_views import (
    UnknownOrder as UnknownOrder,
)
from trifix.trading.orders import (
    DuplicateClOrdIDError as DuplicateClOrdIDError,
)
from trifix.trading.orders import (
    OrderTracker as OrderTracker,
)
from trifix.trading.orders import (
    OrderTrackingError as OrderTrackingError,
)
from trifix.trading.orders import (
    RecoveryError as RecoveryError,
)
from trifix.trading.orders import (
    SupportsToMessage as SupportsToMessage,
)
from trifix.trading.orders import (
    UnknownOrderError as UnknownOrderError,
)
from trifix.trading.quotes import (
    QuoteBook as QuoteBook,
)
from trifix.trading.quotes import (
    QuoteError as QuoteError,
)
from trifix.trading.quotes import (
    QuoteState as QuoteState,
)
from trifix.trading.quotes import (
    QuoteView as QuoteView,
)
from trifix.trading.routing import (
    BUY_SIDES as BUY_SIDES,
)
from trifix.trading.routing import (
    SELL_SIDES as SELL_SIDES,
)
from trifix.trading.routing import (
    Candidate as Candidate,
)
from trifix.trading.routing import (
    LPConfig as LPConfig,
)
from trifix.trading.routing import (
    NoRouteError as NoRouteError,
)
from trifix.trading.routing import (
    Route as Route,
)
from trifix.trading.routing import (
    choose_best_price as choose_best_price,
)
from trifix.trading.updates import (
    Alert as Alert,
)
from trifix.trading.updates import (
    AlertKind as AlertKind,
)
from trifix.trading.updates import (
    BboChanged as BboChanged,
)
from trifix.trading.updates import (
    BookChanged as BookChanged,
)
from trifix.trading.updates import (
    GatewayUpdate as GatewayUpdate,
)
from trifix.trading.updates import (
    OrderChanged as OrderChanged,
)
from trifix.trading.updates import (
    QuoteChanged as QuoteChanged,
)
from trifix.trading.updates import (
    SessionChanged as SessionChanged,
)
from trifix.trading.updates import (
    UpdateHub as UpdateHub,
)

__all__ = [
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
