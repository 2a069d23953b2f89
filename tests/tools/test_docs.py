"""The generated docs are up to date, and what they show is what trifix accepts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from trifix.core.message import Message
from trifix.core.validate import Validator

ROOT = Path(__file__).resolve().parents[2]


def generator(name: str) -> ModuleType:
    """Load tools/<name>.py (a script, not a package)."""
    module_name = f"_trifix_tools_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "tools" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "doc"),
    [("gen_msg_docs", "messages.md"), ("gen_config_docs", "config-reference.md")],
)
def test_the_committed_page_is_up_to_date(name: str, doc: str) -> None:
    gen = generator(name)
    committed = (ROOT / "docs" / doc).read_text("utf-8")
    assert committed == gen.render(), f"docs/{doc} is stale: run python tools/{name}.py"
    assert gen.main(["gen", "--check"]) == 0


def test_the_check_mode_reports_a_stale_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gen = generator("gen_msg_docs")
    monkeypatch.setattr(gen, "OUT", tmp_path / "messages.md")
    assert gen.main(["gen", "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert gen.main(["gen"]) == 0
    assert gen.main(["gen", "--check"]) == 0


def test_every_example_message_is_valid() -> None:
    gen = generator("gen_msg_docs")
    validator = Validator()
    for doc in gen.MESSAGES:
        frame = gen.example_message(doc).encode()
        assert validator.validate(Message.from_frame(frame)) is None, doc.msg_type
        assert frame.replace(b"\x01", b"|").decode() in gen.render()


def test_every_configuration_key_has_a_quickfix_entry() -> None:
    gen = generator("gen_config_docs")
    keys = [key for key, _type, _default in gen.keys(gen.schema.GatewayConfig)]
    assert {k for k in keys if not k.startswith(gen.NO_QUICKFIX_BLOCKS)} == set(gen.QUICKFIX)
    assert "trading.lps[].instruments[].tick_size" in keys
    assert "sessions[].fix.validation.fields_out_of_order" in keys
    assert "listen.tls.cert_file" in keys


def test_a_new_schema_key_without_a_quickfix_name_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    gen = generator("gen_config_docs")
    monkeypatch.delitem(gen.QUICKFIX, "store.sync")
    with pytest.raises(SystemExit, match=r"missing \['store.sync'\]"):
        gen.render()
