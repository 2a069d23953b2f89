"""The simulator's YAML: the example, and errors that name the file, line and key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from simulator import AppMode, FillModel
from simulator.config import load_simulator_spec
from trifix.config import ConfigFileError
from trifix.core.tags import Side

EXAMPLE = Path(__file__).parents[2] / "examples" / "sim.yaml"

GOOD = """\
listen: {port: 0}
sessions:
  - {id: GW, role: acceptor, sender_comp_id: LP, target_comp_id: GW}
simulator:
  store: {store}
  sessions:
    GW: {reject: {sides: [sell], ratio: 0.25, reason: 3}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sim.yaml"
    path.write_text(text)
    return path


def test_the_example_loads() -> None:
    spec = load_simulator_spec(EXAMPLE, environ={})
    gw, conform = spec.sessions
    assert (spec.listen_port, spec.seed, spec.tick_interval, spec.store_path) == (
        9878,
        42,
        0.25,
        None,
    )
    assert gw.session.settings.password == "secret"
    assert gw.session.settings.reset_on_logon
    assert (gw.app, gw.behaviour.fill, gw.behaviour.slices) == (AppMode.LP, FillModel.RESTING, 2)
    assert gw.behaviour.latency == pytest.approx(0.005)
    assert gw.behaviour.reject is not None
    assert gw.behaviour.reject.qty_above == Decimal(5_000_000)
    assert conform.app is AppMode.ECHO
    eur = spec.instruments[0]
    assert (eur.bid, eur.offer, eur.levels, eur.max_qty) == (
        Decimal("1.08504"),
        Decimal("1.08506"),
        5,
        Decimal(10_000_000),
    )


def test_defaults_and_reject_sides(tmp_path: Path) -> None:
    spec = load_simulator_spec(write(tmp_path, GOOD.replace("{store}", str(tmp_path / "db"))))
    rule = spec.sessions[0].behaviour.reject
    assert rule is not None
    assert (rule.sides, rule.ratio, int(rule.reason)) == (frozenset({Side.SELL}), 0.25, 3)
    assert spec.store_path == tmp_path / "db"
    assert [i.symbol for i in spec.instruments] == ["EURUSD", "GBPUSD", "USDJPY", "AUDUSD"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("ratio: 0.25", "ratio: 2"),
            "sim.yaml:7:34: simulator.sessions.GW.reject.ratio: expected from 0 to 1, got 2",
        ),
        (
            GOOD + "  instruments:\n    - {symbol: X, price: abc, tick_size: 0.1}\n",
            "sim.yaml:9:19: simulator.instruments[0].price: expected a decimal number",
        ),
        (
            GOOD + "  tick_interval: fast\n",
            'simulator.tick_interval: expected a duration like "1s" or "500ms", got "fast"',
        ),
        (GOOD + "  sed: 1\n", "simulator.sed: unknown key 'sed' (did you mean 'seed'?)"),
        (GOOD.replace("GW: {", "XX: {"), "simulator.sessions.XX: no session 'XX' (known: GW)"),
        (
            GOOD.replace("role: acceptor, ", "host: h, port: 1, "),
            "sessions[0].role: the simulator only runs acceptors",
        ),
        (GOOD.replace("sides: [sell]", "sides: [up]"), "expected one of buy, sell"),
        (
            GOOD + "  instruments:\n    - {symbol: X, price: 1, tick_size: 0.1, levels: 0}\n",
            "need levels >= 1",
        ),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigFileError) as info:
        load_simulator_spec(write(tmp_path, text.replace("{store}", "memory")))
    assert expected in str(info.value)


def test_unreadable_and_non_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read the file"):
        load_simulator_spec(tmp_path / "missing.yaml")
    with pytest.raises(ConfigFileError, match="expected a mapping"):
        load_simulator_spec(write(tmp_path, "- 1\n"))
    with pytest.raises(ConfigFileError, match="invalid YAML"):
        load_simulator_spec(write(tmp_path, "a: [\n"))
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigFileError, match="UTF-8"):
        load_simulator_spec(tmp_path / "bin.yaml")
