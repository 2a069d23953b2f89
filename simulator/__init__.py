"""The bundled LP simulator: an acceptor built on trifix's public API.

`run_mini_lp` is the minimal LP that `trifix run` connects to when given no configuration.
"""

from simulator.mini import DEFAULT_INSTRUMENTS, Instrument, run_mini_lp

__all__ = ["DEFAULT_INSTRUMENTS", "Instrument", "run_mini_lp"]
