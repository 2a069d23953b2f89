"""Interleaved micro-timings for the ADR measurement scripts.

Every cell (one snippet on one message) is calibrated once, then all cells are timed in turn,
pass after pass, and each keeps its best pass. A burst of load from a neighbour therefore
spoils one pass of many cells rather than every sample of one cell.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager, nullcontext
from typing import Any


class Cells:
    """Collect snippets with `add`, time them all with `run`, read results with `ns`."""

    def __init__(self, *, min_time: float, passes: int) -> None:
        self.min_time = min_time
        self.passes = passes
        self._timers: dict[Hashable, timeit.Timer] = {}
        self._around: dict[Hashable, Callable[[], AbstractContextManager[object]]] = {}
        self._best: dict[Hashable, float] = {}

    def add(
        self,
        key: Hashable,
        stmt: str | Callable[[], object],
        env: dict[str, Any] | None = None,
        around: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        """Time `stmt` (in `env`); `around` is entered for each timing of this cell only."""
        self._timers[key] = timeit.Timer(stmt, globals=env)
        self._around[key] = around

    def run(self) -> None:
        counts = {}
        for key, timer in self._timers.items():
            with self._around[key]():
                counts[key] = self._calibrate(timer)
        for p in range(self.passes):
            for key, timer in self._timers.items():
                n = counts[key]
                with self._around[key]():
                    ns = timer.timeit(n) / n * 1e9  # timeit turns the garbage collector off
                self._best[key] = min(ns, self._best.get(key, ns))
            print(f"  pass {p + 1}/{self.passes} done", file=sys.stderr, flush=True)

    def ns(self, key: Hashable) -> float:
        return self._best[key]

    def _calibrate(self, timer: timeit.Timer) -> int:
        n = 1
        while True:
            t = timer.timeit(n)
            if t >= self.min_time:
                return n
            n *= 2 if t > self.min_time / 10 else 10
