"""The `trading:` and `web:` blocks: LPs over the sessions, reference data, breakers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from trifix.config import BreakerConfig, WebConfig

from .helpers import SESSION, parse, problems

LP = """\
trading:
  lps:
    - name: LP1
      order_session: LP1
      md_session: LP1
      subscribe: [EURUSD]
      depth: 5
      collar_percent: 2
      notional_limit: "50000000"
      ack_timeout: 5s
      breaker: {failure_threshold: 3, window: 30s}
      instruments:
        - {symbol: EURUSD, tick_size: "0.00001", lot_size: 1000, min_qty: 1000}
        - {symbol: USDJPY, tick_size: 0.001, max_qty: 1e7}
web:
  enabled: true
  http_port: 0
  token: ${WEB_TOKEN}
"""


def test_a_full_trading_block() -> None:
    config = parse(SESSION + LP, {"WEB_TOKEN": "s3cret"})
    assert config.trading is not None
    (lp,) = config.trading.lps
    assert (lp.name, lp.order_session, lp.md_session) == ("LP1", "LP1", "LP1")
    assert (lp.subscribe, lp.depth) == (("EURUSD",), 5)
    assert lp.collar_percent == Decimal(2)
    assert lp.collar_absolute is None
    assert lp.notional_limit == Decimal(50000000)
    assert lp.ack_timeout == timedelta(seconds=5)
    assert lp.breaker == BreakerConfig(failure_threshold=3, window=timedelta(seconds=30))
    eurusd, usdjpy = lp.instruments
    assert (eurusd.tick_size, eurusd.lot_size, eurusd.min_qty) == (
        Decimal("0.00001"),
        Decimal(1000),
        Decimal(1000),
    )
    assert (usdjpy.tick_size, usdjpy.max_qty, usdjpy.tradable) == (
        Decimal("0.001"),
        Decimal(10000000),
        True,
    )
    assert config.web == WebConfig(enabled=True, http_port=0, token="s3cret")


def test_both_blocks_are_optional() -> None:
    config = parse(SESSION)
    assert config.trading is None
    assert config.web.enabled is False


def test_an_lp_must_name_configured_sessions() -> None:
    text = SESSION + "trading:\n  lps:\n    - {name: LP1, order_session: LP9}\n"
    assert problems(text) == [
        "gateway.yaml:9:19: trading.lps[0].order_session: no session 'LP9': use one of the "
        "sessions' ids (LP1)"
    ]


def test_lp_mistakes_are_located() -> None:
    text = SESSION + (
        "trading:\n"
        "  lps:\n"
        "    - {name: A, order_session: LP1}\n"
        "    - {name: A, order_session: LP1}\n"
    )
    assert problems(text) == [
        "gateway.yaml:10:8: trading.lps[1].name: duplicate LP name 'A' (also lps[0])"
    ]
    assert problems(SESSION + "trading:\n  lps:\n    - {name: A}\n") == [
        "gateway.yaml:9:7: trading.lps[0].order_session: an LP needs an order_session, an "
        "md_session or both (session ids)"
    ]
    only_orders = "trading:\n  lps:\n    - {name: A, order_session: LP1, subscribe: [X]}\n"
    assert problems(SESSION + only_orders) == [
        "gateway.yaml:9:37: trading.lps[0].subscribe: subscribe needs md_session: the session "
        "market data comes on"
    ]
    assert problems(SESSION + "trading:\n  lps: []\n") == [
        "gateway.yaml:8:3: trading.lps: no lps: list at least one"
    ]


def test_decimals_are_numbers_kept_exact() -> None:
    def instrument(value: str) -> list[str]:
        return problems(
            SESSION + "trading:\n  lps:\n    - name: A\n      order_session: LP1\n"
            f"      instruments: [{{symbol: X, tick_size: {value}}}]\n"
        )

    assert instrument("abc") == [
        'gateway.yaml:11:33: trading.lps[0].instruments[0].tick_size: expected a number, got "abc"'
    ]
    assert instrument("true")[0].endswith("tick_size: expected a number, got true")
    assert instrument('"nan"')[0].endswith('tick_size: expected a finite number, got "nan"')
    assert instrument("[1]")[0].endswith("tick_size: expected a number, got a list")
    assert instrument("0")[0].endswith("tick_size: expected a number above 0, got 0")


def test_instrument_and_breaker_ranges() -> None:
    base = SESSION + "trading:\n  lps:\n    - name: A\n      order_session: LP1\n"
    bad_qty = base + "      instruments: [{symbol: X, tick_size: 1, min_qty: 5, max_qty: 2}]\n"
    assert problems(bad_qty)[0].endswith("min_qty: min_qty 5 is above max_qty 2")
    bad_breaker = base + "      breaker: {failure_threshold: 0, cool_down: 0s}\n"
    assert problems(bad_breaker) == [
        "gateway.yaml:11:17: trading.lps[0].breaker.failure_threshold: expected at least 1, got 0"
    ]
    no_cool_down = base + "      breaker: {cool_down: 0s}\n"
    assert problems(no_cool_down)[0].endswith(
        "breaker.cool_down: expected a number above 0 seconds, got 0"
    )
