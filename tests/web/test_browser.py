"""The dashboard in headless Chromium: a real gateway over two mini LPs serves the page, the
browser runs its JavaScript (JSON endpoints, then live WebSocket pushes), and the rendered DOM
and a screenshot are checked.

Chromium is Debian's ``chromium`` package; ``.ci/run`` installs it. Without it the test skips,
except under CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest
import trio

from tests.web.harness import connect, open_desk
from trifix.web.serve import WebPorts, serve_web

PRICE = re.compile(r"^\d+\.\d{3,5}$")
WIDTH, HEIGHT = 1280, 800


CHROMIUM = shutil.which("chromium")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="chromium is not installed (apt-get install chromium); CI installs and runs it",
)


def chromium() -> str:
    if CHROMIUM is None:  # only reached under CI=true, where the test must not be skipped
        pytest.fail(
            "CI=true but chromium is missing: .ci/run installs it (apt-get install chromium)"
        )
    return CHROMIUM


async def browse(profile: Path, *args: str) -> bytes:
    """Run headless Chromium with `args` and a fresh `profile` directory; its stdout. Trio keeps
    serving meanwhile."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=3000",
        *args,
    ]
    with trio.fail_after(30):
        done = await trio.run_process(command, capture_stdout=True, capture_stderr=True)
    return done.stdout


class Tables(HTMLParser):
    """The text of every cell of every table with an id, row by row; and elements' text by id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.by_id: dict[str, str] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = dict(attrs).get("id")
        if tag == "table" and ident:
            self._table = ident
            self.tables[ident] = []
        elif tag == "tbody" and self._table:
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif ident:
            self._span = ident
            self.by_id[ident] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._table and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif self._span and tag in ("span", "h1", "div"):
            self._span = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._span is not None:
            self.by_id[self._span] += data


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_the_dashboard_renders_live_data_in_chromium(tmp_path: Path) -> None:
    chromium()  # fails under CI without chromium, before starting anything
    async with open_desk(tick_interval=0.05) as desk:
        await desk.gw.subscribe(["EURUSD", "GBPUSD"])
        ports: WebPorts = await desk.nursery.start(
            functools.partial(serve_web, desk.gw, desk.engine, http_port=0, ws_port=0)
        )
        async with connect(desk) as c:
            await c.ok("place_order", cl_ord_id="WEB-1", symbol="EURUSD", side="buy",
                       order_qty=100000, lp="LP1")  # fmt: skip
            await c.ok("place_order", cl_ord_id="WEB-2", symbol="GBPUSD", side="sell",
                       order_qty=5000, price="1.5", lp="LP2")  # fmt: skip
        url = f"http://127.0.0.1:{ports.http}/"

        dom = Tables()
        dom.feed((await browse(tmp_path / "p1", "--dump-dom", url)).decode())
        sessions = dom.tables["sessions"]
        assert [row[0] for row in sessions] == ["LP1", "LP2"]
        for row in sessions:
            assert row[3] == "up"  # status
            assert int(row[5]) > 1  # next sequence numbers shown
            assert int(row[6]) > 1
        eurusd = next(row for row in dom.tables["books"] if row[0] == "EURUSD")
        assert PRICE.match(eurusd[3]), eurusd  # the consolidated bid
        assert PRICE.match(eurusd[4]), eurusd
        orders = {row[1]: row for row in dom.tables["orders"]}
        assert orders["WEB-1"][7] == "filled"
        assert orders["WEB-2"][7] == "new"
        assert dom.by_id["health"] == "healthy"
        assert dom.by_id["link"] == "live"  # the page's WebSocket connected and subscribed

        shot = tmp_path / "dash.png"
        await browse(
            tmp_path / "p2", f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}", url
        )
        blank = tmp_path / "blank.png"
        await browse(
            tmp_path / "p3",
            f"--window-size={WIDTH},{HEIGHT}",
            f"--screenshot={blank}",
            "data:text/html,<body style='background:%23f4f6f9'></body>",
        )
    data = shot.read_bytes()
    assert png_size(data) == (WIDTH, HEIGHT)
    assert png_size(blank.read_bytes()) == (WIDTH, HEIGHT)
    assert len(data) > 10 * len(blank.read_bytes()), "the screenshot looks blank"
