"""The trading layer: typed messages, orders, market data, quotes and multi-LP routing.

It sits above `trifix.runtime` and knows nothing of bytes or sockets: it reads and writes
`Message`s through the runtime's `SessionHandle`s.
"""
