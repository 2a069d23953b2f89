"""Reporting results: one line per script, the closing tally, and a JUnit XML file for CI."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from conformance.runner import ScriptResult
from conformance.script import ScriptError

__all__ = ["error_line", "result_line", "summary_line", "write_junit"]

# Characters XML 1.0 cannot carry (garbled input may contain any byte).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def result_line(result: ScriptResult) -> str:
    """``PASS name``, ``SKIP name: why`` or ``FAIL name: step N (kind, line L): difference``."""
    name = result.script.name
    if result.status == "passed":
        return f"PASS {name}"
    if result.status == "skipped":
        return f"SKIP {name}: {result.reason}"
    return f"FAIL {name}: {_where(result)}{result.reason}"


def _where(result: ScriptResult) -> str:
    step = result.step
    if step is None:
        return ""
    note = f": {step.note}" if step.note else ""
    return f"step {step.index} ({step.kind}, line {step.line}{note}): "


def error_line(error: ScriptError) -> str:
    """A script that could not be loaded: ``ERROR file:line: step N: message``."""
    return f"ERROR {error}"


def summary_line(results: Sequence[ScriptResult]) -> str:
    """``N passed, M failed``, with the skipped count when some scripts did not apply."""
    passed = sum(r.status == "passed" for r in results)
    failed = sum(r.status == "failed" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    line = f"{passed} passed, {failed} failed"
    return f"{line}, {skipped} skipped" if skipped else line


def write_junit(results: Sequence[ScriptResult], path: Path, suite: str = "trifix-conform") -> None:
    """Write a JUnit XML report: one testcase per script, the transcript in system-out.

    Raises:
        OSError: the file cannot be written.
    """
    root = ET.Element("testsuites")
    tests = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(sum(r.status == "failed" for r in results)),
        errors="0",
        skipped=str(sum(r.status == "skipped" for r in results)),
        time=f"{sum(r.duration for r in results):.3f}",
    )
    for result in results:
        script = result.script
        case = ET.SubElement(
            tests,
            "testcase",
            classname=f"{suite}.{script.path.parent.name or 'scripts'}",
            name=f"{script.name} [{script.case}]",
            file=str(script.path),
            time=f"{result.duration:.3f}",
        )
        if result.status == "failed":
            failure = ET.SubElement(
                case, "failure", message=_xml_text(f"{_where(result)}{result.reason}")
            )
            failure.text = _xml_text(
                f"{script.case}: {script.title}\n{_where(result)}{result.reason}"
            )
        elif result.status == "skipped":
            ET.SubElement(case, "skipped", message=result.reason)
        if result.transcript:
            ET.SubElement(case, "system-out").text = _xml_text("\n".join(result.transcript))
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
